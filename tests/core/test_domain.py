"""A domain plugs in by being added to the list: a throwaway one, made here, is served, guarded,
listed in the navigation, run by the scheduler, seeded by ``registry demo`` and given a command,
with nothing else changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import click
import httpx
import pytest
from click.testing import CliRunner
from litestar import Controller, Litestar, get
from rich.progress import Progress

from registry.accounts.access import ADMIN, PUBLIC
from registry.accounts.roles import Role
from registry.cli import build_cli
from registry.config import Settings
from registry.core.domain import Domain, NavItem, anyone, route_access
from registry.core.scheduler import JobContext, ScheduledJob
from registry.demo import DemoSummary
from registry.domains import DOMAINS
from tests.accounts.helpers import user_signed_in_as
from tests.support import client_with_domains, registry_env

PLANTS = ["fern", "ivy", "basil"]


class GreenhouseApi(Controller):
    path = "/greenhouse"

    @get("/plants", name="api_greenhouse_plants")
    async def plants(self) -> list[str]:
        return PLANTS

    @get("/keys", name="api_greenhouse_keys")
    async def keys(self) -> dict[str, str]:
        return {"door": "under the pot"}


async def water(context: JobContext) -> str:
    return f"watered {len(PLANTS)} plants"


async def seed_plants(summary: DemoSummary, progress: Progress) -> None:
    summary.counts["greenhouse plants"] = len(PLANTS)


@click.command("greenhouse")
def greenhouse_command() -> None:
    """Say what grows in the greenhouse."""
    click.echo(", ".join(PLANTS))


GREENHOUSE = Domain(
    name="greenhouse",
    api=[GreenhouseApi],
    access={"api_greenhouse_plants": PUBLIC, "api_greenhouse_keys": ADMIN},
    navigation=[NavItem("/greenhouse", "The greenhouse", anyone, position=15)],
    jobs=[ScheduledJob("greenhouse_water", "Water every plant", water)],
    demo_seeders=[seed_plants],
    commands=[greenhouse_command],
)
WITH_GREENHOUSE = (*DOMAINS, GREENHOUSE)


@pytest.fixture
async def greenhouse_client(
    app: Litestar, client: httpx.AsyncClient, migrated: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_with_domains(app, migrated, GREENHOUSE) as http:
        yield http


async def test_a_new_domain_is_served_and_guarded(greenhouse_client: httpx.AsyncClient) -> None:
    assert (await greenhouse_client.get("/api/v1/greenhouse/plants")).json() == PLANTS
    assert (await greenhouse_client.get("/api/v1/greenhouse/keys")).status_code == 401
    practitioner = await user_signed_in_as(Role.practitioner)
    refused = await greenhouse_client.get("/api/v1/greenhouse/keys", headers=practitioner.bearer())
    assert refused.status_code == 403
    admin = await user_signed_in_as(Role.admin)
    allowed = await greenhouse_client.get("/api/v1/greenhouse/keys", headers=admin.bearer())
    assert allowed.json() == {"door": "under the pot"}


async def test_a_new_domain_is_in_the_navigation_and_the_api_description(
    greenhouse_client: httpx.AsyncClient,
) -> None:
    home = await greenhouse_client.get("/", headers={"accept": "text/html"})
    assert 'href="/greenhouse"' in home.text
    assert home.text.index("Search the register") < home.text.index("The greenhouse")
    paths = (await greenhouse_client.get("/schema/openapi.json")).json()["paths"]
    assert "/api/v1/greenhouse/plants" in paths


async def test_the_service_without_it_does_not_serve_it(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/greenhouse/plants")).status_code == 404
    assert "The greenhouse" not in (await client.get("/", headers={"accept": "text/html"})).text


def test_a_route_claimed_by_two_domains_is_refused_at_start() -> None:
    twin = Domain(name="twin", access={"api_greenhouse_plants": PUBLIC})
    with pytest.raises(ValueError, match="api_greenhouse_plants"):
        route_access((*WITH_GREENHOUSE, twin))


async def _registry(
    settings: Settings, *args: str, domains: Sequence[Domain] = WITH_GREENHOUSE
) -> tuple[int, str]:
    """The ``registry`` command built from ``domains``, run in a thread (it runs its own event
    loop)."""
    command = build_cli(domains)
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, command, list(args), env=registry_env(settings), catch_exceptions=False
    )
    return result.exit_code, result.output


async def test_a_new_domain_gets_its_command_its_jobs_run_and_its_demo_data_seeded(
    client: httpx.AsyncClient, migrated: Settings
) -> None:
    status, output = await _registry(migrated, "--help")
    assert status == 0
    assert "greenhouse" in output
    assert (await _registry(migrated, "greenhouse")) == (0, "fern, ivy, basil\n")

    status, output = await _registry(migrated, "jobs", "list")
    assert "greenhouse_water" in output
    status, output = await _registry(migrated, "jobs", "run", "--job", "greenhouse_water")
    assert status == 0, output
    assert "greenhouse_water: watered 3 plants" in output

    # Seeding the whole service takes a while (tests/test_demo.py does it); the list is all
    # ``registry demo`` reads, so a list of just the greenhouse seeds just the greenhouse.
    status, output = await _registry(migrated, "demo", "--no-serve", domains=[GREENHOUSE])
    assert status == 0, output
    assert "3 greenhouse plants" in output
    assert "users" not in output
