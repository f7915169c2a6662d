"""The domain manifest: how a part of the service (accounts, the register, …) plugs in.

Each domain package declares one :class:`Domain` in its ``domain.py``: its API controllers and
pages, who may reach each of its routes, its navigation, scheduled jobs, demo seeder, commands,
tables, email templates, what it tells the register and what it holds about a person.
``registry.domains.DOMAINS`` lists them in order, and the application, the ``registry`` command,
the scheduler, ``registry demo`` and the register's hooks all read that one list, so adding a
domain is: write the package, add it there.

A domain is also a Litestar plugin: given to ``Litestar(plugins=…)`` it adds its own routes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Router
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

if TYPE_CHECKING:
    import click
    from litestar.types import ControllerRouterHandler, Middleware
    from piccolo.table import Table
    from rich.progress import Progress

    from registry.accounts.access import Rule
    from registry.config import Settings
    from registry.core.reference import ReferenceList
    from registry.core.scheduler import ScheduledJob
    from registry.core.subject_access import SubjectAccess
    from registry.demo import DemoSummary
    from registry.register.hooks import (
        BatchChangeSubscriber,
        ChangeSubscriber,
        ConcernSource,
        RenewalCheck,
        RestrictionSource,
    )

API_PREFIX = "/api/v1"

Seeder = Callable[["DemoSummary", "Progress"], Awaitable[None]]
Visitor = Any  # a CurrentUser, or None when signed out (duck-typed: no domain import here)
# Where a person lands after signing in, when they did not ask for a page: a path, or None to
# leave it to the next domain (the account page when no domain has one).
LandingPage = Callable[[Any], Awaitable[str | None]]
# What a domain takes from the settings before it serves or runs a command (a key's folder, the
# public address): called by the application as it is made and by ``registry`` once it reads them.
Configure = Callable[["Settings"], None]
# What a domain knows about a signed-in person that pages show (navigation, signposts):
# (user id, roles) -> facts such as "has_application".
VisitorFacts = Callable[[int, frozenset[Any]], Awaitable[frozenset[str]]]
# A bearer credential other than a personal token (an organisation's API key): given the raw
# value, the request's user (a CurrentUser with ``scopes``), or None when it is not valid.
BearerResolver = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True)
class NavItem:
    """One link in the service navigation, shown to whoever ``shown_to`` lets see it, in
    ``position`` order across every domain."""

    href: str
    text: str
    shown_to: Callable[[Visitor], bool]
    position: int


def anyone(visitor: Visitor) -> bool:
    return True


def signed_out(visitor: Visitor) -> bool:
    return visitor is None


def signed_in(visitor: Visitor) -> bool:
    """Any session, a staff member still to give their second factor included."""
    return visitor is not None


def staff(visitor: Visitor) -> bool:
    return visitor is not None and visitor.fully_signed_in and visitor.is_staff


def knowing(fact: str, *, role: str) -> Callable[[Visitor], bool]:
    """Fully signed in with ``role``, and a domain has said ``fact`` of them."""

    def shown_to(visitor: Visitor) -> bool:
        return holding(role)(visitor) and fact in visitor.facts

    return shown_to


def not_knowing(fact: str, *, role: str) -> Callable[[Visitor], bool]:
    """Fully signed in with ``role``, and no domain has said ``fact`` of them."""

    def shown_to(visitor: Visitor) -> bool:
        return holding(role)(visitor) and fact not in visitor.facts

    return shown_to


def holding(role: str) -> Callable[[Visitor], bool]:
    """Fully signed in with ``role``."""

    def shown_to(visitor: Visitor) -> bool:
        return visitor is not None and visitor.fully_signed_in and role in visitor.roles

    shown_to.__name__ = f"holding_{role}"
    return shown_to


@dataclass(frozen=True, eq=False)
class Domain(InitPluginProtocol):
    """Everything one domain adds to the service. Every field but ``name`` is optional."""

    name: str
    api: Sequence[ControllerRouterHandler] = ()
    pages: Sequence[ControllerRouterHandler] = ()
    access: Mapping[str, Rule] = field(default_factory=dict)
    navigation: Sequence[NavItem] = ()
    jobs: Sequence[ScheduledJob] = ()
    demo_seeders: Sequence[Seeder] = ()
    commands: Sequence[click.Command] = ()
    tables: Sequence[type[Table]] = ()
    email_templates: Path | None = None
    restriction_sources: Sequence[RestrictionSource] = ()
    concern_sources: Sequence[ConcernSource] = ()
    change_subscribers: Sequence[ChangeSubscriber] = ()
    # The same work for many changes at once (an import's batch), doing per batch what it can:
    # when given, these are told instead of ``change_subscribers`` of a batch, so they must do
    # everything those do for each change.
    batch_change_subscribers: Sequence[BatchChangeSubscriber] = ()
    # What must be in place before an entry renews (CPD met or exempt), asked by the register.
    renewal_checks: Sequence[RenewalCheck] = ()
    middleware: Sequence[Middleware] = ()
    landing_pages: Sequence[LandingPage] = ()
    visitor_facts: Sequence[VisitorFacts] = ()
    # What the domain holds about one person, for `registry export-person` (subject access).
    subject_access: Sequence[SubjectAccess] = ()
    configure: Sequence[Configure] = ()
    # Short lists admins keep at /admin/reference (see registry.core.reference).
    reference_lists: Sequence[ReferenceList] = ()
    # Bearer credentials the domain issues, by the prefix that marks them (``ppr_live_``).
    bearer_credentials: Mapping[str, BearerResolver] = field(default_factory=dict)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        settings = app_config.state.get("settings")
        if settings is not None:
            configure_domains(settings, [self])
        app_config.middleware.extend(self.middleware)
        app_config.route_handlers.extend(self.pages)
        if self.api:
            app_config.route_handlers.append(Router(path=API_PREFIX, route_handlers=list(self.api)))
        return app_config


def configure_domains(settings: Settings, domains: Sequence[Domain]) -> None:
    """Give each domain what it takes from the settings (its ``configure``). The process's last
    call wins: an application or a command configures them as it starts."""
    for domain in domains:
        for configure in domain.configure:
            configure(settings)


# --- reading the list ------------------------------------------------------------------------


def route_access(domains: Sequence[Domain]) -> dict[str, Rule]:
    """Every domain's access rows in one table; a route claimed twice is a mistake to stop at."""
    table: dict[str, Rule] = {}
    for domain in domains:
        for route, rule in domain.access.items():
            if route in table:
                raise ValueError(f"route {route!r} is given access rules twice ({domain.name})")
            table[route] = rule
    return table


def navigation(domains: Sequence[Domain], visitor: Visitor) -> list[NavItem]:
    items = [item for domain in domains for item in domain.navigation if item.shown_to(visitor)]
    return sorted(items, key=lambda item: item.position)


def scheduled_jobs(domains: Sequence[Domain]) -> dict[str, ScheduledJob]:
    """Every domain's jobs by name, in name order."""
    jobs: dict[str, ScheduledJob] = {}
    for domain in domains:
        for job in domain.jobs:
            if job.name in jobs:
                raise ValueError(f"job {job.name!r} is declared twice ({domain.name})")
            jobs[job.name] = job
    return dict(sorted(jobs.items()))


async def landing_page(account: Any) -> str | None:
    """The first page a domain in force wants ``account`` to land on after signing in."""
    for domain in active_domains():
        for landing in domain.landing_pages:
            target = await landing(account)
            if target is not None:
                return target
    return None


def tables(domains: Sequence[Domain]) -> list[type[Table]]:
    return [table for domain in domains for table in domain.tables]


def email_template_folders(domains: Sequence[Domain]) -> list[Path]:
    return [domain.email_templates for domain in domains if domain.email_templates is not None]


# --- which list is in force --------------------------------------------------------------------
# The service always runs with ``registry.domains.DOMAINS``; tests may put another list in force
# for the length of a ``with`` block (a throwaway domain, a fake restriction source).

_in_force: list[Sequence[Domain]] = []


def active_domains() -> Sequence[Domain]:
    if _in_force:
        return _in_force[-1]
    from registry.domains import DOMAINS  # imported late: every domain imports this module

    return DOMAINS


@contextlib.contextmanager
def domains_in_force(domains: Sequence[Domain]) -> Iterator[None]:
    _in_force.append(domains)
    try:
        yield
    finally:
        _in_force.pop()
