"""Hostile input, route by route: each is answered 4xx in plain English and stores nothing.

``HOSTILE`` is the catalogue. A route that takes input adds its own cases to it: what to send
(method, path, query, form or body), as whom, and the words the answer must carry. Each case runs
on SQLite and PostgreSQL, where a NUL byte or an integer beyond a column's range used to reach
the database and come back as a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from piccolo.table import Table

from registry.accounts.roles import Role
from registry.core import clock
from registry.cpd import activities as cpd_activities
from registry.cpd import exemptions as cpd_exemptions
from registry.cpd.schemas import ActivityIn, ExemptionIn
from registry.db import registry_tables
from registry.register import numbers
from registry.register.applications import workflow
from registry.register.renewals import RenewalCalendar
from registry.register.tables import ApplicationKind
from tests.accounts.helpers import SignedIn, csrf_headers, user_signed_in_as
from tests.register.helpers import put_on_register

HTML = {"accept": "text/html"}
NUL = "\x00"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "invoice\u202efdp.exe" shows as "invoiceexe.pdf"
HUGE = "9223372036854775807"
HUGER = "100000000000000000000"
BEYOND_INT = "2147483648"  # one past PostgreSQL's integer, the type of every id column
VALIDATOR_WORDING = ("Expected `", "Input should be", "Invalid enum value", "String should")

# Makes what a case needs first; may name ids its path takes (``/cpd/activities/{activity}``).
Setup = Callable[[SignedIn], Awaitable[Mapping[str, int] | None]]


async def _draft_application(person: SignedIn) -> None:
    await workflow.start(person.account.id, ApplicationKind.initial)
    return


async def _on_register(person: SignedIn) -> None:
    await put_on_register(account_id=person.account.id)
    return


async def _one_activity(person: SignedIn) -> dict[str, int]:
    await _on_register(person)
    logged = await cpd_activities.record(
        person.account.id,
        ActivityIn.model_validate(
            {
                "title": "Reading",
                "done_on": clock.now().date(),
                "hours": "1",
                "activity_type": "reading_research",
                "participatory": False,
                "practice_areas": ["ethics"],
            }
        ),
        RenewalCalendar(),
    )
    return {"activity": logged.id}


def _activity_json(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Reading",
        "done_on": "2020-06-01",
        "hours": "1.5",
        "activity_type": "reading_research",
        "participatory": False,
        "practice_areas": ["ethics"],
        **changes,
    }


def _activity_form(**changes: str) -> dict[str, str]:
    return {
        "title": "Reading",
        "done_on-day": "1",
        "done_on-month": "6",
        "done_on-year": "2020",
        "hours": "1.5",
        "activity_type": "reading_research",
        "participatory": "no",
        "practice_areas": "ethics",
        "peer_reflection": "no",
        **changes,
    }


def _exemption_json(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "parental_leave",
        "starts_on": "2021-06-01",
        "ends_on": "2021-12-31",
        **changes,
    }


def _exemption_form(**changes: str) -> dict[str, str]:
    return {
        "kind": "long_term_sickness",
        "starts_on-day": "1",
        "starts_on-month": "6",
        "starts_on-year": "2021",
        "ends_on-day": "31",
        "ends_on-month": "12",
        "ends_on-year": "2021",
        **changes,
    }


async def _exemption_asked(person: SignedIn) -> dict[str, int]:
    practitioner = await user_signed_in_as(Role.practitioner, "asking@example.org")
    await put_on_register("Ask", "Ing", account_id=practitioner.account.id)
    asked = await cpd_exemptions.request(
        practitioner.account.id, ExemptionIn.model_validate(_exemption_json())
    )
    return {"exemption": asked.id}


async def _audit_case(person: SignedIn) -> dict[str, int]:
    """A CPD audit case awaiting its profile: the person's own when they are a practitioner,
    else another practitioner's (for the staff who act on it)."""
    from datetime import UTC, date, datetime

    from registry.accounts.roles import Role as Roles
    from registry.cpd.tables import AuditCase, AuditSample

    own = Roles.practitioner in person.account.roles
    entry = await put_on_register("Audi", "Ted", account_id=person.account.id if own else None)
    sample = await AuditSample.insert(
        AuditSample(
            registration_year=2025,
            seed="hostile",
            rate="1",
            eligible_count=1,
            eligible=f"[{entry.id}]",
            chosen_count=1,
            drawn_at=datetime.now(UTC),
            drawn_by="test",
        )
    ).returning(AuditSample.id)
    case = await AuditCase.insert(
        AuditCase(
            sample=sample[0]["id"],
            entry=entry.id,
            practitioner=entry.practitioner_id,
            registration_year=2025,
            due_on=date(2999, 1, 1),
            state="not_met" if Roles.registrar in person.account.roles else "submitted",
        )
    ).returning(AuditCase.id)
    if own:
        await AuditCase.update({AuditCase.state: "awaiting_profile"}).where(
            AuditCase.id == case[0]["id"]
        )
    return {"case": int(case[0]["id"])}


def _pack_json(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Next year",
        "effective_from": "2999-12-01",
        "min_total_hours": 30,
        "min_participatory_hours": 10,
        "min_reflective_accounts": 2,
        "min_peer_reflections": 1,
        "min_practice_areas": 3,
        **changes,
    }


# --- fitness to practise ----------------------------------------------------------------------


def _concern_json(**changes: Any) -> dict[str, Any]:
    return {
        "about_name": "Sam Someone",
        "about_workplace": "Leeds probation office",
        "what_happened": "They shouted at me.",
        "categories": ["professional_boundaries"],
        "relationship": "public",
        **changes,
    }


def _concern_form(**changes: str) -> dict[str, str]:
    """The concern form's answers as "Check your answers" sends them."""
    return {
        "step": "check",
        "about_name": "Sam Someone",
        "about_workplace": "Leeds probation office",
        "what_happened": "They shouted at me.",
        "happened_on-day": "1",
        "happened_on-month": "3",
        "happened_on-year": "2026",
        "categories": "professional_boundaries",
        "relationship": "public",
        **changes,
    }


def _case_at(stage_name: str) -> Setup:
    """A case brought to a stage by the workflow's own moves (its version then is known:
    one more than the moves and responses on its way there)."""

    async def setup(person: SignedIn) -> dict[str, int]:
        from registry.conduct.tables import Stage
        from tests.conduct.helpers import case_at, people

        return {"case": await case_at(Stage(stage_name), await people())}

    return setup


def _own_case_at(stage_name: str) -> Setup:
    """A case about the signed-in practitioner, brought to a stage."""

    async def setup(person: SignedIn) -> dict[str, int]:
        from registry.conduct.tables import Stage
        from tests.conduct.helpers import case_at, people

        who = await people(account_id=person.account.id)
        return {"case": await case_at(Stage(stage_name), who)}

    return setup


async def _anothers_case(person: SignedIn) -> Mapping[str, int] | None:
    await _on_register(person)
    return await _case_at("investigation")(person)


async def _with_document(case_id: int, *, disclosed: bool) -> int:
    """A document on the case (its bytes in a folder of their own: these cases never download
    it)."""
    import tempfile
    from pathlib import Path

    from tests.conduct.helpers import attach_document

    return await attach_document(Path(tempfile.mkdtemp()), case_id, disclosed=disclosed)


def _case_with_document(make_case: Setup, *, disclosed: bool = True) -> Setup:
    """A case made by ``make_case``, holding one document."""

    async def setup(person: SignedIn) -> dict[str, int]:
        case = (await make_case(person) or {})["case"]
        return {"case": case, "document": await _with_document(case, disclosed=disclosed)}

    return setup


async def _two_cases(person: SignedIn, *, own: bool) -> tuple[Any, int, int]:
    """Two cases under investigation, about two practitioners (the first the person, when
    ``own``): the people, the first case and the second."""
    from registry.conduct.tables import Stage
    from tests.conduct.helpers import case_at, people, someone_else

    who = await people(account_id=person.account.id if own else None)
    first = await case_at(Stage.investigation, who)
    second = await case_at(Stage.investigation, await someone_else(who, "sam@example.org"))
    return who, first, second


def _another_cases_document(*, own: bool) -> Setup:
    """A case (the person's own, when ``own``) and a disclosed document of another case."""

    async def setup(person: SignedIn) -> dict[str, int]:
        _, case, other = await _two_cases(person, own=own)
        return {"case": case, "document": await _with_document(other, disclosed=True)}

    return setup


def _interim_order(*, on_another_case: bool = False) -> Setup:
    """A case under investigation with an interim suspension in force, or (``on_another_case``)
    a case and the order of another case."""

    async def setup(person: SignedIn) -> dict[str, int]:
        from registry.conduct import interim_orders
        from registry.conduct import workflow as conduct
        from registry.conduct.tables import InterimKind

        who, case, other = await _two_cases(person, own=False)
        order = await interim_orders.make(
            case,
            InterimKind.interim_suspension,
            months=12,
            conditions="",
            reason="Risk",
            by=who.adjudicator,
            version=(await conduct.get_case(case)).version,
        )
        return {"case": other if on_another_case else case, "order": order.id}

    return setup


def _move_form(move: str, version: int | str, **fields: str) -> dict[str, str]:
    """A move's form on the staff case page: its fields are named after the move."""
    return {
        "move": move,
        "version": str(version),
        **{f"{move}-{name}": value for name, value in fields.items()},
    }


@dataclass(frozen=True)
class Hostile:
    """One hostile request and what its answer must say."""

    case: str
    method: str
    path: str
    says: str  # words the answer must carry, in plain English
    status: int = 422
    role: Role | None = None  # signed in with this role; None for the public
    page: bool = False  # as a browser (an HTML page, the session cookie and a CSRF token)
    params: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    body: bytes | None = None
    files: Mapping[str, tuple[str, bytes, str]] = field(default_factory=dict)  # name: (file, …)
    setup: Setup | None = None


NOT_FOUND = "Check the address or the number and try again"


# --- employers: an organisation the signed-in employer administers --------------------------


async def _administers_an_organisation(person: SignedIn) -> None:
    from registry.employers.tables import Member, Organisation, OrganisationStatus

    moment = clock.now()
    organisation = Organisation(
        name="Hostile Trust",
        status=OrganisationStatus.approved.value,
        contact_name="Admin",
        contact_email=person.account.email,
        created_at=moment,
    )
    await organisation.save()
    await Member.insert(
        Member(organisation=organisation.id, user=person.account.id, is_admin=True, added_at=moment)
    )


def _employer_case(case: str, method: str, path: str, says: str, **more: Any) -> Hostile:
    return Hostile(
        f"employers: {case}",
        method,
        path,
        says,
        role=more.pop("role", Role.employer),
        setup=more.pop("setup", _administers_an_organisation),
        **more,
    )


EMPLOYER_CASES: list[Hostile] = [
    _employer_case(
        "10,001 numbers",
        "POST",
        "/api/v1/verifications",
        "at most 10,000 numbers",
        status=413,
        json={"registration_numbers": ["PR1000011"] * 10_001},
    ),
    _employer_case(
        "a number of 101 characters",
        "POST",
        "/api/v1/verifications",
        "100 characters or fewer",
        json={"registration_numbers": ["P" * 101]},
    ),
    _employer_case(
        "numbers not a list",
        "POST",
        "/api/v1/verifications",
        "Registration numbers",
        json={"registration_numbers": "PR1000011"},
    ),
    _employer_case(
        "a CSV in Latin-1",
        "POST",
        "/api/v1/verifications/csv",
        "not UTF-8",
        files={
            "file": ("staff.csv", "registration_number\nZo\u00eb\n".encode("latin-1"), "text/csv")
        },
    ),
    _employer_case(
        "a CSV without the column",
        "POST",
        "/api/v1/verifications/csv",
        "no column named 'registration_number'",
        files={"file": ("staff.csv", b"number\nPR1000011\n", "text/csv")},
    ),
    _employer_case(
        "a CSV with NUL bytes",
        "POST",
        "/api/v1/verifications/csv",
        "binary data",
        files={"file": ("staff.csv", b"registration_number\nPR1\x00\n", "text/csv")},
    ),
    _employer_case(
        "pasted numbers with NUL",
        "POST",
        "/organisation/checks",
        "must not contain control characters",
        page=True,
        form={"numbers": f"PR1000011{NUL}"},
    ),
    _employer_case(
        "10,001 pasted numbers",
        "POST",
        "/organisation/checks",
        "at most 10,000 numbers",
        page=True,
        form={"numbers": "PR1000011\n" * 10_001},
    ),
    _employer_case(
        "a key name with NUL",
        "POST",
        "/api/v1/organisation/keys",
        "Name must not contain control characters",
        json={"name": f"hr{NUL}", "scopes": ["verify"]},
    ),
    _employer_case(
        "a key with no scope on the page",
        "POST",
        "/organisation/keys",
        "Choose at least one thing the key may do",
        page=True,
        form={"key_name": "HR system"},
    ),
    _employer_case(
        "a colleague with RLO in the name",
        "POST",
        "/api/v1/organisation/members",
        "must not contain characters that change the direction of text",
        json={"email": "c@example.org", "display_name": f"Col{RLO}in"},
    ),
    _employer_case(
        "revoking key 2147483648",
        "DELETE",
        f"/api/v1/organisation/keys/{BEYOND_INT}",
        NOT_FOUND,
        status=404,
    ),
    _employer_case(
        "revoking key 2147483648 on the page",
        "POST",
        f"/organisation/keys/{BEYOND_INT}/revoke",
        NOT_FOUND,
        status=404,
        page=True,
    ),
    Hostile(
        "employers: an organisation request with NUL in the name",
        "POST",
        "/employers/request",
        "must not contain control characters",
        page=True,
        form={"name": f"Trust{NUL}", "contact_name": "A B", "contact_email": "a@b.example.org"},
    ),
    Hostile(
        "employers: an organisation request with RLO in the name",
        "POST",
        "/employers/request",
        "must not contain characters that change the direction of text",
        page=True,
        form={"name": f"Trust{RLO}", "contact_name": "A B", "contact_email": "a@b.example.org"},
    ),
    Hostile(
        "employers: refusing organisation 2147483648",
        "POST",
        f"/registrar/employers/{BEYOND_INT}/refuse",
        NOT_FOUND,
        status=404,
        role=Role.registrar,
        page=True,
        form={"reason": "No"},
    ),
    Hostile(
        "employers: approving organisation 2147483648 through the API",
        "POST",
        f"/api/v1/employers/organisations/{BEYOND_INT}/approve",
        NOT_FOUND,
        status=404,
        role=Role.registrar,
        json={"reason": "x"},
    ),
    Hostile(
        "employers: staff making an organisation with a bad email",
        "POST",
        "/api/v1/employers/organisations",
        "Enter an email address in the correct format",
        role=Role.registrar,
        json={"name": "East", "contact_name": "Ed East", "contact_email": "not-an-email"},
    ),
]

# --- employers: the watchlist and its webhooks -------------------------------------------------


async def _another_organisations_objects(person: SignedIn) -> dict[str, int]:
    """The person administers one organisation; another has an endpoint (with an event in its
    delivery log), a key and a watched number: their ids, for paths the person must not reach."""
    from registry.employers.tables import (
        ApiKey,
        Organisation,
        OrganisationStatus,
        Watch,
        WebhookEndpoint,
        WebhookEvent,
    )

    await _administers_an_organisation(person)
    moment = clock.now()
    other = Organisation(
        name="Other Trust",
        status=OrganisationStatus.approved.value,
        contact_name="Other",
        contact_email="other@other.example.org",
        created_at=moment,
    )
    await other.save()
    endpoint = WebhookEndpoint(
        organisation=other.id,
        url="https://hooks.other.example/in",
        secret_sealed="sealed",
        created_at=moment,
    )
    await endpoint.save()
    await WebhookEvent.insert(
        WebhookEvent(
            endpoint=endpoint.id,
            event_id="evt_other",
            event_type="test",
            registration_number="",
            occurred_at=moment,
        )
    )
    key = ApiKey(
        organisation=other.id,
        name="Other HR",
        key_prefix="ppr_live_othe",
        key_hash="0" * 64,
        scopes="verify",
        created_at=moment,
    )
    await key.save()
    await Watch.insert(
        Watch(organisation=other.id, registration_number="PR1000011", added_at=moment)
    )
    return {"endpoint": endpoint.id, "key": key.id}


NO_ENDPOINT = "Your organisation has no webhook endpoint with that id"
NO_KEY = "Your organisation has no key with that id"
NOT_WATCHED = "That number is not on your watchlist"


def _anothers(case: str, method: str, path: str, says: str, **more: Any) -> Hostile:
    """Another organisation's object: 404 (never 403, which would say that it exists)."""
    return _employer_case(
        f"another organisation's {case}",
        method,
        path,
        says,
        status=404,
        setup=_another_organisations_objects,
        **more,
    )


ANOTHER_ORGANISATIONS = [
    _anothers(
        "delivery log", "GET", "/api/v1/organisation/webhooks/{endpoint}/deliveries", NO_ENDPOINT
    ),
    _anothers(
        "endpoint removed", "DELETE", "/api/v1/organisation/webhooks/{endpoint}", NO_ENDPOINT
    ),
    _anothers(
        "endpoint tested", "POST", "/api/v1/organisation/webhooks/{endpoint}/test", NO_ENDPOINT
    ),
    _anothers(
        "watched number removed", "DELETE", "/api/v1/organisation/watchlist/PR1000011", NOT_WATCHED
    ),
    _anothers("key revoked", "DELETE", "/api/v1/organisation/keys/{key}", NO_KEY),
    _anothers(
        "delivery log on the page",
        "GET",
        "/organisation/watchlist/webhooks/{endpoint}",
        NO_ENDPOINT,
        page=True,
    ),
    _anothers(
        "endpoint removed on the page",
        "POST",
        "/organisation/watchlist/webhooks/{endpoint}/remove",
        NO_ENDPOINT,
        page=True,
    ),
    _anothers(
        "endpoint tested on the page",
        "POST",
        "/organisation/watchlist/webhooks/{endpoint}/test",
        NO_ENDPOINT,
        page=True,
    ),
    _anothers(
        "key revoked on the page", "POST", "/organisation/keys/{key}/revoke", NO_KEY, page=True
    ),
    _anothers(
        "watched number removed on the page",
        "POST",
        "/organisation/watchlist/remove",
        NOT_WATCHED,
        page=True,
        form={"registration_number": "PR1000011"},
    ),
]


def _watch_page(case: str, path: str, says: str, **more: Any) -> Hostile:
    return _employer_case(f"{case} on the watchlist page", "POST", path, says, page=True, **more)


def _csv(data: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("staff.csv", data, "text/csv")}


WATCHLIST_LIMIT = "A watchlist holds at most 10,000 numbers; this list has 10,001"

WATCHLIST_PAGE_CASES = [
    _watch_page(
        "watching a malformed number",
        "/organisation/watchlist/add",
        "is not a registration number: it should be",
        form={"registration_number": "PR12"},
    ),
    _watch_page(
        "watching a number with an escape character",
        "/organisation/watchlist/add",
        "must not contain control characters",
        form={"registration_number": "PR1000011\x1b[2J"},
    ),
    _watch_page(
        "watching a huge integer",
        "/organisation/watchlist/add",
        "is not a registration number",
        form={"registration_number": HUGE},
    ),
    _watch_page(
        "watching a number beyond any integer",
        "/organisation/watchlist/add",
        "is not a registration number",
        form={"registration_number": HUGER * 3},
    ),
    _watch_page(
        "removing a number with NUL",
        "/organisation/watchlist/remove",
        "must not contain control characters",
        form={"registration_number": f"PR1000011{NUL}"},
    ),
    _watch_page(
        "a pasted list with NUL",
        "/organisation/watchlist/replace",
        "must not contain control characters",
        form={"numbers": f"PR1000011\nPR{NUL}1"},
    ),
    _watch_page(
        "a pasted list with a malformed second number",
        "/organisation/watchlist/replace",
        "Line 2",
        form={"numbers": "PR1000011\nnonsense"},
    ),
    _watch_page(
        "10,001 pasted numbers",
        "/organisation/watchlist/replace",
        WATCHLIST_LIMIT,
        form={"numbers": "PR1000011\n" * 10_001},
    ),
    # A list too long is refused for what it holds (422), not for its size in bytes (413).
    _employer_case(
        "a watchlist of 10,001 numbers",
        "PUT",
        "/api/v1/organisation/watchlist",
        WATCHLIST_LIMIT,
        json={"registration_numbers": ["PR1000011"] * 10_001},
    ),
    _employer_case(
        "a watchlist CSV of 10,001 numbers",
        "PUT",
        "/api/v1/organisation/watchlist/csv",
        WATCHLIST_LIMIT,
        files=_csv(b"registration_number\n" + b"PR1000011\n" * 10_001),
    ),
    _watch_page(
        "a CSV without the column",
        "/organisation/watchlist/replace",
        "has no column named",
        files=_csv(b"number\nPR1000011\n"),
    ),
    _watch_page(
        "a CSV in Latin-1",
        "/organisation/watchlist/replace",
        "not UTF-8",
        files=_csv("registration_number\nZo\u00eb\n".encode("latin-1")),
    ),
    _watch_page(
        "a CSV with NUL bytes",
        "/organisation/watchlist/replace",
        "binary data",
        files=_csv(b"registration_number\nPR1\x00\n"),
    ),
    _watch_page(
        "a webhook over plain http",
        "/organisation/watchlist/webhooks",
        "must start with https://",
        form={"url": "http://example.org/hook"},
    ),
    _watch_page(
        "a webhook to loopback",
        "/organisation/watchlist/webhooks",
        "loopback",
        form={"url": "https://127.0.0.1:8443/hook"},
    ),
    _watch_page(
        "a webhook to the cloud metadata address",
        "/organisation/watchlist/webhooks",
        "link-local",
        form={"url": "https://[fe80::1]/hook"},
    ),
    _watch_page(
        "a webhook address with NUL",
        "/organisation/watchlist/webhooks",
        "must not contain control characters",
        form={"url": f"https://example.org/{NUL}"},
    ),
    _watch_page(
        "a webhook address with a port beyond any port",
        "/organisation/watchlist/webhooks",
        "That is not a web address",
        form={"url": f"https://example.org:{HUGE}/hook"},
    ),
    _watch_page(
        "a webhook address with a password in it",
        "/organisation/watchlist/webhooks",
        "Put no user name or password in the address",
        form={"url": "https://user:secret@example.org/hook"},
    ),
    _watch_page(
        "a webhook address of 2,049 characters",
        "/organisation/watchlist/webhooks",
        "2048 characters or fewer",
        form={"url": "https://example.org/" + "a" * 2030},
    ),
    _watch_page(
        "removing endpoint 2147483648",
        f"/organisation/watchlist/webhooks/{BEYOND_INT}/remove",
        NOT_FOUND,
        status=404,
    ),
    _employer_case(
        "the delivery log of endpoint 9223372036854775807 on the page",
        "GET",
        f"/organisation/watchlist/webhooks/{HUGE}",
        NOT_FOUND,
        status=404,
        page=True,
    ),
]

WATCHLIST_CASES: list[Hostile] = [
    _employer_case(
        "watching a number with NUL",
        "POST",
        "/api/v1/organisation/watchlist",
        "must not contain control characters",
        json={"registration_number": f"PR1000011{NUL}"},
    ),
    _employer_case(
        "watching a malformed number",
        "POST",
        "/api/v1/organisation/watchlist",
        "'PR12' is not a registration number",
        json={"registration_number": "PR12"},
    ),
    _employer_case(
        "a watchlist with a malformed second number",
        "PUT",
        "/api/v1/organisation/watchlist",
        "Line 2",
        json={"registration_numbers": ["PR1000011", "nonsense"]},
    ),
    _employer_case(
        "a watchlist CSV in Latin-1",
        "PUT",
        "/api/v1/organisation/watchlist/csv",
        "not UTF-8",
        files={
            "file": ("staff.csv", "registration_number\nZo\u00eb\n".encode("latin-1"), "text/csv")
        },
    ),
    _employer_case(
        "a webhook over plain http",
        "POST",
        "/api/v1/organisation/webhooks",
        "must start with https://",
        json={"url": "http://example.org/hook"},
    ),
    _employer_case(
        "a webhook to the cloud metadata address",
        "POST",
        "/api/v1/organisation/webhooks",
        "link-local",
        json={"url": "https://169.254.169.254/latest/meta-data"},
    ),
    _employer_case(
        "a webhook address with NUL",
        "POST",
        "/api/v1/organisation/webhooks",
        "must not contain control characters",
        json={"url": f"https://example.org/{NUL}"},
    ),
    _employer_case(
        "the delivery log of endpoint 2147483648",
        "GET",
        f"/api/v1/organisation/webhooks/{BEYOND_INT}/deliveries",
        NOT_FOUND,
        status=404,
    ),
    _employer_case(
        "a test event to endpoint 2147483648 on the page",
        "POST",
        f"/organisation/watchlist/webhooks/{BEYOND_INT}/test",
        NOT_FOUND,
        status=404,
        page=True,
    ),
    _employer_case(
        "watching a number with NUL on the page",
        "POST",
        "/organisation/watchlist/add",
        "must not contain control characters",
        page=True,
        form={"registration_number": f"PR1000011{NUL}"},
    ),
    _employer_case(
        "a webhook to a private address on the page",
        "POST",
        "/organisation/watchlist/webhooks",
        "private",
        page=True,
        form={"url": "https://10.0.0.8/hook"},
    ),
]

# --- the fitness to practise staff pages ------------------------------------------------------


def _staff_move(
    case: str, stage: str, role: Role, form: dict[str, str], says: str, **more: Any
) -> Hostile:
    return Hostile(
        f"staff case page, move: {case}",
        "POST",
        "/conduct/cases/{case}/moves",
        says,
        role=role,
        page=True,
        form=form,
        setup=_case_at(stage),
        **more,
    )


CONDUCT_STAFF_CASES: list[Hostile] = [
    *(
        Hostile(
            f"staff case page: {method} an id beyond any column",
            method,
            path,
            NOT_FOUND,
            status=404,
            role=Role.caseworker,
            page=True,
            form={"version": "1"} if method == "POST" else {},
        )
        for method, path in (
            ("GET", f"/conduct/cases/{BEYOND_INT}"),
            ("POST", f"/conduct/cases/{BEYOND_INT}/moves"),
            ("POST", f"/conduct/cases/{BEYOND_INT}/assignment"),
            ("GET", f"/conduct/cases/{BEYOND_INT}/documents/1"),
            ("POST", f"/conduct/cases/{BEYOND_INT}/documents/1/disclosure"),
        )
    ),
    *(
        Hostile(
            f"document disclosure: {what}",
            "POST",
            "/conduct/cases/{case}/documents/" + document + "/disclosure",
            said,
            status=status,
            role=Role.caseworker,
            page=True,
            form={"version": version},
            setup=_case_at("investigation"),
        )
        for what, document, version, said, status in (
            ("a document beyond any column", BEYOND_INT, "2", NOT_FOUND, 404),
            ("a document not on the case", "1", "2", "There is no such document on this case", 404),
            ("NUL in the version", "1", f"2{NUL}", "must not contain control characters", 422),
            ("a version beyond any", "1", HUGER, "2,147,483,647 or less", 422),
        )
    ),
    *(
        Hostile(
            f"staff case page: asked for by {role.value}",
            "GET",
            "/conduct/cases/{case}",
            "You cannot see this page",
            status=403,
            role=role,
            page=True,
            setup=_case_at("investigation"),
        )
        for role in (Role.practitioner, Role.employer)
    ),
    _staff_move(
        "NUL in the reason",
        "triage",
        Role.caseworker,
        _move_form("open_investigation", 2, reason=f"Go{NUL}"),
        "must not contain control characters",
    ),
    _staff_move(
        "a bell in the reason",
        "triage",
        Role.caseworker,
        _move_form("open_investigation", 2, reason="Go\x07"),
        "must not contain control characters",
    ),
    _staff_move(
        "a version beyond any",
        "triage",
        Role.caseworker,
        _move_form("open_investigation", HUGER, reason="Go"),
        "2,147,483,647 or less",
    ),
    _staff_move(
        "a stale version",
        "triage",
        Role.caseworker,
        _move_form("open_investigation", 1, reason="Go"),
        "Someone else has changed this case since you opened it",
        status=409,
    ),
    _staff_move(
        "a move out of order",
        "received",
        Role.caseworker,
        _move_form("open_investigation", 1, reason="Go"),
        "so it cannot make that move. You can now: Start triage.",
        status=409,
    ),
    _staff_move(
        "a move nobody has",
        "triage",
        Role.caseworker,
        _move_form("pardon", 2),
        "Choose a move the case can make",
    ),
    _staff_move(
        "a decision by a role not allowed to make it",
        "hearing",
        Role.caseworker,
        _move_form("not_impaired", 7, reason="Fine"),
        "is for adjudicator only",
        status=403,
    ),
    _staff_move(
        "a four-year suspension",
        "hearing",
        Role.adjudicator,
        _move_form("impaired", 7, reason="Impaired", kind="suspension", months="48", summary="x"),
        "Suspension lasts from 1 to 12 months",
    ),
    _staff_move(
        "a two-year warning",
        "hearing",
        Role.adjudicator,
        _move_form("impaired", 7, reason="Impaired", kind="warning", months="24", summary="x"),
        "A warning lasts 1 or 3 or 5 years",
    ),
    _staff_move(
        "months beyond any",
        "hearing",
        Role.adjudicator,
        _move_form("impaired", 7, reason="Impaired", kind="suspension", months=HUGE, summary="x"),
        "How many months must be 120 or less",
    ),
    _staff_move(
        "a sanction nobody has",
        "hearing",
        Role.adjudicator,
        _move_form("impaired", 7, reason="Impaired", kind="flogging", months="6", summary="x"),
        "Sanction must be",
    ),
    _staff_move(
        "a hearing on 31 February",
        "hearing",
        Role.caseworker,
        _move_form(
            "schedule_hearing",
            7,
            **{
                "hearing_on-day": "31",
                "hearing_on-month": "2",
                "hearing_on-year": "2030",
                "panel-1": "A",
                "panel-2": "B",
                "panel-3": "C",
                "remote": "yes",
            },
        ),
        "The hearing date must be a real date",
    ),
    Hostile(
        "staff case page: assigned to an id beyond any",
        "POST",
        "/conduct/cases/{case}/assignment",
        "2,147,483,647 or less",
        role=Role.caseworker,
        page=True,
        form={"assign-caseworker": BEYOND_INT, "version": "2"},
        setup=_case_at("triage"),
    ),
    Hostile(
        "staff case page: NUL in the registration number identified",
        "POST",
        "/conduct/cases/{case}/identification",
        "must not contain control characters",
        role=Role.caseworker,
        page=True,
        form={"identify-registration_number": f"PR1{NUL}", "version": "1"},
        setup=_case_at("received"),
    ),
    Hostile(
        "staff case page: an interim order beyond 18 months without a court order",
        "POST",
        "/conduct/cases/{case}/interim-orders",
        "18 months at most",
        role=Role.adjudicator,
        page=True,
        form={
            "interim-kind": "interim_suspension",
            "interim-months": "19",
            "interim-reason": "Risk",
            "version": "3",
        },
        setup=_case_at("investigation"),
    ),
    Hostile(
        "staff case list: whose cases, by an id beyond any",
        "GET",
        "/conduct/cases",
        "Choose whose cases to show from the list",
        role=Role.caseworker,
        page=True,
        params={"assigned": BEYOND_INT},
    ),
    Hostile(
        "staff case list: a stage nobody has",
        "GET",
        "/conduct/cases",
        "Stage must be",
        role=Role.case_examiner,
        page=True,
        params={"stage": "limbo"},
    ),
]


def _review_form(**changes: str) -> dict[str, str]:
    """The interim order's review form on the staff case page."""
    return {
        "review-outcome": "continue",
        "review-reason": "Still needed",
        "version": "4",
        **changes,
    }


STALE = "could not be found or has expired"
PDF = ("letter.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")

# Added with the review of the pages and API of the fitness to practise workspace and the
# practitioner's cases: every input of every route, those the catalogue did not yet try.
CONDUCT_REVIEW_CASES: list[Hostile] = [
    # --- the staff case list's query --------------------------------------------------------
    *(
        Hostile(
            f"cases API: {what}",
            "GET",
            "/api/v1/cases",
            said,
            role=Role.caseworker,
            params=params,
        )
        for what, params, said in (
            (
                "a caseworker and nobody's cases together",
                {"caseworker": "1", "unassigned": "true"},
                "Choose a caseworker or the cases nobody is assigned to, not both",
            ),
            ("nobody's cases, neither true nor false", {"unassigned": "maybe"}, "Only the cases"),
            ("a caseworker beyond any id", {"caseworker": HUGER}, "2,147,483,647 or less"),
        )
    ),
    *(
        Hostile(
            f"staff case list: {what}",
            "GET",
            "/conduct/cases",
            said,
            role=Role.caseworker,
            page=True,
            params=params,
        )
        for what, params, said in (
            ("whose cases, by a superscript digit", {"assigned": "\u00b2"}, "Choose whose cases"),
            ("whose cases, 13 characters", {"assigned": "1" * 13}, "12 characters or fewer"),
            ("a page beyond the last", {"page": HUGER}, "Page must be 100,000 or less"),
            ("a page that is not a number", {"page": "two"}, "Page must be a whole number"),
            ("overdue, neither yes nor no", {"overdue": "maybe"}, "Overdue only must be"),
            ("NUL in the stage", {"stage": f"triage{NUL}"}, "must not contain control characters"),
        )
    ),
    Hostile(
        "staff case page: NUL in the banner asked for",
        "GET",
        "/conduct/cases/{case}",
        "must not contain control characters",
        role=Role.caseworker,
        page=True,
        params={"done": f"moved{NUL}"},
        setup=_case_at("triage"),
    ),
    # --- a case's documents, staff ----------------------------------------------------------
    *(
        Hostile(
            f"staff case {where}: {what}",
            method,
            path.replace("/conduct/cases", "/api/v1/cases") if where == "API" else path,
            said,
            status=404,
            role=Role.caseworker,
            page=where == "page",
            setup=setup,
            json={"version": 2} if where == "API" and method == "POST" else None,
            form={"version": "2"} if where == "page" and method == "POST" else {},
        )
        for where in ("page", "API")
        for what, method, path, said, setup in (
            (
                "a document beyond any column",
                "GET",
                f"/conduct/cases/{{case}}/documents/{BEYOND_INT}",
                NOT_FOUND,
                _case_at("investigation"),
            ),
            (
                "another case's document",
                "GET",
                "/conduct/cases/{case}/documents/{document}",
                "There is no such document on this case",
                _another_cases_document(own=False),
            ),
            (
                "another case's document disclosed",
                "POST",
                "/conduct/cases/{case}/documents/{document}/disclosure",
                "There is no such document on this case",
                _another_cases_document(own=False),
            ),
        )
    ),
    *(
        Hostile(
            f"document disclosure: {what}",
            "POST",
            "/conduct/cases/{case}/documents/{document}/disclosure",
            said,
            status=status,
            role=Role.caseworker,
            page=True,
            form={"version": version},
            setup=_case_with_document(_case_at("investigation"), disclosed=disclosed),
        )
        for what, version, disclosed, said, status in (
            ("a stale version", "1", False, "Someone else has changed this case", 409),
            ("a version that is not a number", "two", False, "must be a whole number", 422),
            ("a superscript version", "\u00b2", False, "must be a whole number", 422),
            ("no version", "", False, "version you saw must be a whole number", 422),
            ("a document disclosed already", "3", True, "can see this document already", 409),
        )
    ),
    *(
        Hostile(
            f"document disclosure API: {what}",
            "POST",
            "/api/v1/cases/{case}/documents/{document}/disclosure",
            said,
            status=status,
            role=Role.caseworker,
            json=body,
            setup=_case_with_document(_case_at("investigation"), disclosed=disclosed),
        )
        for what, body, disclosed, said, status in (
            ("a version beyond any", {"version": int(HUGER)}, False, "2,147,483,647 or less", 422),
            ("a version of 0", {"version": 0}, False, "version you saw must be 1 or more", 422),
            ("no version", {}, False, "version you saw is required", 422),
            ("a field it does not take", {"version": 3, "to": "all"}, False, "leave it out", 422),
            ("a stale version", {"version": 1}, False, "has changed", 409),
            ("a document disclosed already", {"version": 3}, True, "already", 409),
        )
    ),
    # --- assignment, identification, interim orders and their reviews -----------------------
    *(
        Hostile(
            f"staff case page, {path}: {what}",
            "POST",
            "/conduct/cases/{case}/" + path,
            said,
            status=status,
            role=role,
            page=True,
            form=form,
            setup=setup,
        )
        for path, role, setup, what, form, said, status in (
            (
                "assignment",
                Role.caseworker,
                _case_at("triage"),
                "a caseworker that is not a number",
                {"assign-caseworker": "Ann", "version": "2"},
                "must be a whole number",
                422,
            ),
            (
                "assignment",
                Role.caseworker,
                _case_at("triage"),
                "NUL in the version",
                {"assign-caseworker": "none", "version": f"2{NUL}"},
                "must not contain control characters",
                422,
            ),
            (
                "assignment",
                Role.caseworker,
                _case_at("triage"),
                "someone who is not a caseworker",
                {"assign-caseworker": "987654", "version": "2"},
                "caseworker",
                422,
            ),
            (
                "identification",
                Role.caseworker,
                _case_at("received"),
                "a malformed registration number",
                {"identify-registration_number": "XX1", "version": "1"},
                "is not a registration number",
                422,
            ),
            (
                "identification",
                Role.caseworker,
                _case_at("received"),
                "a registration number of 21 characters",
                {"identify-registration_number": "PR" + "1" * 19, "version": "1"},
                "20 characters or fewer",
                422,
            ),
            (
                "identification",
                Role.caseworker,
                _case_at("received"),
                "a version beyond any",
                {"identify-registration_number": "PR1000011", "version": HUGER},
                "2,147,483,647 or less",
                422,
            ),
            (
                "interim-orders",
                Role.adjudicator,
                _case_at("investigation"),
                "NUL in the reason",
                {
                    "interim-kind": "interim_suspension",
                    "interim-months": "6",
                    "interim-reason": f"Risk{NUL}",
                    "version": "3",
                },
                "must not contain control characters",
                422,
            ),
            (
                "interim-orders",
                Role.adjudicator,
                _case_at("investigation"),
                "months beyond any",
                {
                    "interim-kind": "interim_suspension",
                    "interim-months": HUGE,
                    "interim-reason": "Risk",
                    "version": "3",
                },
                "120 or less",
                422,
            ),
            (
                "interim-orders",
                Role.adjudicator,
                _case_at("investigation"),
                "an order nobody has",
                {
                    "interim-kind": "house_arrest",
                    "interim-months": "6",
                    "interim-reason": "Risk",
                    "version": "3",
                },
                "Interim order must be",
                422,
            ),
            (
                "interim-orders",
                Role.adjudicator,
                _case_at("investigation"),
                "a reason of 10,001 characters",
                {
                    "interim-kind": "interim_suspension",
                    "interim-months": "6",
                    "interim-reason": "a" * 10_001,
                    "version": "3",
                },
                "10,000 characters or fewer",
                422,
            ),
            (
                f"interim-orders/{BEYOND_INT}/reviews",
                Role.adjudicator,
                _case_at("investigation"),
                "an order beyond any column",
                _review_form(),
                NOT_FOUND,
                404,
            ),
            (
                "interim-orders/{order}/reviews",
                Role.adjudicator,
                _interim_order(on_another_case=True),
                "another case's order",
                _review_form(),
                "There is no such interim order",
                404,
            ),
            (
                "interim-orders/{order}/reviews",
                Role.adjudicator,
                _interim_order(),
                "NUL in the reason",
                _review_form(**{"review-reason": f"Still{NUL}"}),
                "must not contain control characters",
                422,
            ),
            (
                "interim-orders/{order}/reviews",
                Role.adjudicator,
                _interim_order(),
                "an outcome nobody has",
                _review_form(**{"review-outcome": "forget"}),
                "Outcome must be",
                422,
            ),
            (
                "interim-orders/{order}/reviews",
                Role.adjudicator,
                _interim_order(),
                "an extension beyond any",
                _review_form(**{"review-outcome": "extend", "review-months": HUGER}),
                "120 or less",
                422,
            ),
            (
                "interim-orders/{order}/reviews",
                Role.adjudicator,
                _interim_order(),
                "a version beyond any",
                _review_form(version=HUGER),
                "2,147,483,647 or less",
                422,
            ),
            (
                "interim-orders/{order}/reviews",
                Role.adjudicator,
                _interim_order(),
                "a stale version",
                _review_form(version="1"),
                "Someone else has changed this case",
                409,
            ),
        )
    ),
    _staff_move(
        "a version that is not a number",
        "triage",
        Role.caseworker,
        _move_form("open_investigation", "two", reason="Go"),
        "must be a whole number",
    ),
    _staff_move(
        "a reason of 10,001 characters",
        "triage",
        Role.caseworker,
        _move_form("open_investigation", 2, reason="a" * 10_001),
        "10,000 characters or fewer",
    ),
    # --- the practitioner's own cases --------------------------------------------------------
    *(
        Hostile(
            f"your case page: {what}",
            method,
            path,
            said,
            status=404,
            role=Role.practitioner,
            page=True,
            setup=setup,
            form=form,
        )
        for what, method, path, setup, form, said in (
            (
                "an id beyond any column",
                "GET",
                f"/your-cases/{BEYOND_INT}",
                None,
                {},
                NOT_FOUND,
            ),
            (
                "the outcome of someone else's case",
                "GET",
                "/your-cases/{case}/outcome",
                _anothers_case,
                {},
                "There is no such fitness to practise case",
            ),
            (
                "an answer to someone else's outcome",
                "POST",
                "/your-cases/{case}/outcome",
                _anothers_case,
                {"decision": "accept", "confirmed": "yes", "version": "7"},
                "There is no such fitness to practise case",
            ),
            (
                "a document of someone else's case",
                "GET",
                "/your-cases/{case}/documents/{document}",
                _another_cases_document(own=True),
                {},
                "There is no such document on this case",
            ),
            (
                "a document of their case not disclosed to them",
                "GET",
                "/your-cases/{case}/documents/{document}",
                _case_with_document(_own_case_at("investigation"), disclosed=False),
                {},
                "There is no such document on this case",
            ),
            (
                "a document beyond any column",
                "GET",
                f"/your-cases/{{case}}/documents/{BEYOND_INT}",
                _own_case_at("investigation"),
                {},
                NOT_FOUND,
            ),
        )
    ),
    *(
        Hostile(
            f"your case: {what}",
            "GET",
            "/api/v1/me/cases/{case}/documents/{document}",
            "There is no such document on this case",
            status=404,
            role=Role.practitioner,
            setup=setup,
        )
        for what, setup in (
            ("a document of someone else's case", _another_cases_document(own=True)),
            (
                "a document not disclosed to them",
                _case_with_document(_own_case_at("investigation"), disclosed=False),
            ),
        )
    ),
    *(
        Hostile(
            f"your case page: an answer with {what}",
            "POST",
            "/your-cases/{case}/outcome",
            said,
            status=status,
            role=Role.practitioner,
            page=True,
            setup=_own_case_at("accepted_outcome"),
            form={"decision": "accept", "confirmed": "yes", "version": version},
        )
        for what, version, said, status in (
            ("a superscript version", "\u00b2", "The page was out of date", 422),
            ("a version of 0", "0", "The page was out of date", 422),
            ("NUL in the version", f"7{NUL}", "must not contain control characters", 422),
            ("a stale version", "1", "has changed", 409),
        )
    ),
    *(
        Hostile(
            f"your case page: a response {what}",
            "POST",
            "/your-cases/{case}/response",
            said,
            role=Role.practitioner,
            page=True,
            setup=_own_case_at("investigation"),
            form={"response": response},
        )
        for what, response, said in (
            ("of 10,001 characters", "a" * 10_001, "10,000 characters or fewer"),
            (
                "that reverses its text",
                f"Not{RLO}me",
                "must not contain characters that change the direction of text",
            ),
            ("with nothing in it", "   ", "Write your response, or attach it"),
        )
    ),
    # --- a concern's attachments -------------------------------------------------------------
    Hostile(
        "concern attachment: no file",
        "POST",
        "/api/v1/concerns/attachments",
        "Select a file to attach",
        files={"other": PDF},
    ),
    Hostile(
        "concern attachment: a file over 10 MB",
        "POST",
        "/api/v1/concerns/attachments",
        "smaller than 10 MB",
        files={"data": ("big.pdf", PDF[1] + b"0" * (10 * 1024 * 1024), "application/pdf")},
    ),
    *(
        Hostile(
            f"concern: {what}",
            "POST",
            "/api/v1/concerns",
            said,
            json=_concern_json(attachments=tokens),
        )
        for what, tokens, said in (
            ("an attachment token beyond any id", [f"{BEYOND_INT}.1700000000.{'0' * 64}"], STALE),
            ("an attachment token with a superscript id", [f"\u00b2.1700000000.{'0' * 64}"], STALE),
            (
                "an attachment token with a superscript time",
                [f"1.\u00b9700000000.{'0' * 64}"],
                STALE,
            ),
            (
                "an attachment token of 121 characters",
                ["1." + "0" * 119],
                "must be 120 characters or fewer",
            ),
            ("an attachment token with NUL", [f"1.1{NUL}.0"], "must not contain control"),
            ("six attachments", [f"{n}.1.0" for n in range(1, 7)], "must have 5 items or fewer"),
            ("an attachment that is not a token", [7], "Attached files must be text"),
        )
    ),
    # --- the published decision's PDF ---------------------------------------------------------
    Hostile(
        "published decision PDF: an id that is not a number",
        "GET",
        f"/register/{numbers.registration_number(1)}/decisions/one/pdf",
        NOT_FOUND,
        status=404,
        page=True,
    ),
    Hostile(
        "published decision PDF: NUL in the number",
        "GET",
        "/register/PR1%00/decisions/1/pdf",
        NOT_FOUND,
        status=404,
        page=True,
    ),
]


HOSTILE: list[Hostile] = [
    # --- control characters in text ---------------------------------------------------------
    Hostile(
        "sign-in email with NUL",
        "POST",
        "/sign-in",
        "Email must not contain control characters",
        page=True,
        form={"email": f"ada{NUL}@example.org", "password": "whatever it is"},
    ),
    Hostile(
        "forgotten password with NUL",
        "POST",
        "/forgotten-password",
        "Email must not contain control characters",
        page=True,
        form={"email": f"ada{NUL}@example.org"},
    ),
    Hostile(
        "create account with NUL",
        "POST",
        "/create-account",
        "Display name must not contain control characters",
        page=True,
        form={
            "display_name": f"Ada{NUL}",
            "email": "ada@example.org",
            "password": "a long passphrase here",
        },
    ),
    Hostile(
        "register search page with NUL",
        "GET",
        "/register",
        "Search terms must not contain control characters",
        page=True,
        params={"q": f"smith{NUL}"},
    ),
    Hostile(
        "register search API with NUL",
        "GET",
        "/api/v1/register",
        "Search terms must not contain control characters",
        params={"q": f"smith{NUL}"},
    ),
    Hostile(
        "register search API with 101 characters",
        "GET",
        "/api/v1/register",
        "Search terms must be 100 characters or fewer",
        params={"q": "a" * 101},
    ),
    Hostile(
        "register entry with NUL",
        "GET",
        "/api/v1/register/PR%00",
        NOT_FOUND,
        status=404,
    ),
    Hostile(
        "token name with NUL in the API",
        "POST",
        "/api/v1/me/tokens",
        "Name must not contain control characters",
        role=Role.practitioner,
        json={"name": f"case{NUL}system"},
    ),
    Hostile(
        "token name with RLO in the API",
        "POST",
        "/api/v1/me/tokens",
        "Name must not contain characters that change the direction of text",
        role=Role.practitioner,
        json={"name": f"export{RLO}txt.exe"},
    ),
    Hostile(
        "token name with NUL on the page",
        "POST",
        "/account/tokens",
        "Name must not contain control characters",
        role=Role.practitioner,
        page=True,
        form={"name": f"case{NUL}system"},
    ),
    Hostile(
        "token name with RLO on the page",
        "POST",
        "/account/tokens",
        "Name must not contain characters that change the direction of text",
        role=Role.practitioner,
        page=True,
        form={"name": f"export{RLO}txt.exe"},
    ),
    Hostile(
        "invite with NUL on the page",
        "POST",
        "/admin/users/new",
        "Display name must not contain control characters",
        role=Role.admin,
        page=True,
        form={"email": "new@example.org", "display_name": f"Ada{NUL}", "roles": "registrar"},
    ),
    Hostile(
        "invite with NUL in the API",
        "POST",
        "/api/v1/admin/users",
        "Display name must not contain control characters",
        role=Role.admin,
        json={"email": "new@example.org", "display_name": f"Ada{NUL}", "roles": ["registrar"]},
    ),
    Hostile(
        "invite with an email holding NUL in the API",
        "POST",
        "/api/v1/admin/users",
        "Email must not contain control characters",
        role=Role.admin,
        json={"email": f"new{NUL}@example.org", "display_name": "Ada", "roles": ["registrar"]},
    ),
    Hostile(
        "invite with RLO in the name in the API",
        "POST",
        "/api/v1/admin/users",
        "Display name must not contain characters that change the direction of text",
        role=Role.admin,
        json={"email": "new@example.org", "display_name": f"Ada{RLO}", "roles": ["registrar"]},
    ),
    Hostile(
        "user search page with NUL",
        "GET",
        "/admin/users",
        "Search terms must not contain control characters",
        role=Role.admin,
        page=True,
        params={"q": f"ada{NUL}"},
    ),
    Hostile(
        "user search API with NUL",
        "GET",
        "/api/v1/admin/users",
        "Search terms must not contain control characters",
        role=Role.admin,
        params={"q": f"ada{NUL}"},
    ),
    Hostile(
        "audit filter API with NUL",
        "GET",
        "/api/v1/audit",
        "Actor must not contain control characters",
        role=Role.admin,
        params={"actor": f"ada{NUL}"},
    ),
    Hostile(
        "audit filter page with NUL",
        "GET",
        "/audit",
        "Target id must not contain control characters",
        role=Role.admin,
        page=True,
        params={"target_id": f"1{NUL}"},
    ),
    Hostile(
        "application contact email with NUL",
        "POST",
        "/apply/contact",
        "Email must not contain control characters",
        role=Role.practitioner,
        page=True,
        form={"email": f"amara{NUL}@example.org", "phone": ""},
        setup=_draft_application,
    ),
    Hostile(
        "application name with RLO",
        "POST",
        "/apply/name",
        "Family name must not contain characters that change the direction of text",
        role=Role.practitioner,
        page=True,
        form={"given_names": "Amara", "family_name": f"Oko{RLO}ye"},
        setup=_draft_application,
    ),
    Hostile(
        "reference item with NUL in the address",
        "GET",
        "/admin/reference/regions/x%00",
        NOT_FOUND,
        status=404,
        role=Role.admin,
        page=True,
    ),
    # --- numbers beyond what can exist --------------------------------------------------------
    *(
        Hostile(
            f"page {number} of {path}",
            "GET",
            path,
            says,
            role=role,
            page=page,
            params={"page": number},
        )
        for number in (HUGE, HUGER)
        for path, role, page, says in (
            ("/api/v1/register", None, False, "Page must be 10,000 or less"),
            ("/register", None, True, "Page must be 10,000 or less"),
            ("/api/v1/admin/users", Role.admin, False, "Page must be 100,000 or less"),
            ("/admin/users", Role.admin, True, "Page must be 100,000 or less"),
            ("/api/v1/audit", Role.admin, False, "Page must be 100,000 or less"),
            ("/audit", Role.admin, True, "Page must be 100,000 or less"),
            ("/outbox", Role.admin, True, "Page must be 100,000 or less"),
            ("/registrar/applications", Role.registrar, True, "Page must be 100,000 or less"),
        )
    ),
    *(
        Hostile(f"id {BEYOND_INT} in {method} {path}", method, path, NOT_FOUND, 404, role, page)
        for method, path, role, page in (
            ("DELETE", f"/api/v1/me/tokens/{BEYOND_INT}", Role.practitioner, False),
            ("PATCH", f"/api/v1/admin/users/{BEYOND_INT}", Role.admin, False),
            ("POST", f"/account/tokens/{BEYOND_INT}/revoke", Role.practitioner, True),
            ("GET", f"/admin/users/{BEYOND_INT}", Role.admin, True),
            ("GET", f"/outbox/{BEYOND_INT}", Role.admin, True),
            ("GET", f"/registrar/applications/{BEYOND_INT}", Role.registrar, True),
            ("DELETE", f"/api/v1/me/tokens/{HUGER}", Role.practitioner, False),
            ("GET", f"/api/v1/me/cpd/activities/{BEYOND_INT}", Role.practitioner, False),
            ("PUT", f"/api/v1/me/cpd/activities/{BEYOND_INT}", Role.practitioner, False),
            ("DELETE", f"/api/v1/me/cpd/activities/{BEYOND_INT}", Role.practitioner, False),
            ("GET", f"/cpd/activities/{BEYOND_INT}", Role.practitioner, True),
            ("POST", f"/cpd/activities/{BEYOND_INT}/delete", Role.practitioner, True),
            ("GET", f"/cpd/evidence/{BEYOND_INT}", Role.practitioner, True),
        )
    ),
    # --- dates beyond the calendar -----------------------------------------------------------
    Hostile(
        "audit API from the year 1 east of UTC",
        "GET",
        "/api/v1/audit",
        "Occurred from must be from the year 1900 to 2999",
        role=Role.admin,
        params={"occurred_from": "0001-01-01T00:00:00+14:00"},
    ),
    Hostile(
        "audit API before the year 10000",
        "GET",
        "/api/v1/audit",
        "Occurred before must be from the year 1900 to 2999",
        role=Role.admin,
        params={"occurred_before": "9999-12-31T23:59:59-14:00"},
    ),
    Hostile(
        "audit page to the last day of 9999",
        "GET",
        "/audit",
        "To date must be from the year 1900 to 2999",
        role=Role.admin,
        page=True,
        params={"to_date": "9999-12-31"},
    ),
    # --- bodies that are not what they claim --------------------------------------------------
    Hostile(
        "JSON body with invalid UTF-8",
        "POST",
        "/api/v1/me/tokens",
        "The request body is not valid JSON",
        status=400,
        role=Role.practitioner,
        body=b'{"name": "\xff\xfe"}',
    ),
    Hostile(
        "JSON nested 1,000 deep",
        "POST",
        "/api/v1/me/tokens",
        "The request body is not valid JSON",
        status=400,
        role=Role.practitioner,
        body=b'{"name": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    ),
    Hostile(
        "JSON body cut short",
        "POST",
        "/api/v1/me/tokens",
        "The request body is not valid JSON",
        status=400,
        role=Role.practitioner,
        body=b'{"name": ',
    ),
    Hostile("a NUL in a static file's name", "GET", "/static/%00", NOT_FOUND, 404),
    # --- creating an account and confirming its address ---------------------------------------
    *(
        Hostile(
            f"create account: {case}",
            "POST",
            "/create-account",
            says,
            page=True,
            form={
                "display_name": "Ada Okafor",
                "email": "ada@example.org",
                "password": "a long passphrase here",
                **changes,
            },
        )
        for case, changes, says in (
            ("a name of digits", {"display_name": "12345"}, "Name must include letters"),
            ("a name of punctuation", {"display_name": "!!!"}, "Name must include letters"),
            (
                "a name with a right-to-left override",
                {"display_name": f"Ada{RLO}rofakO"},
                "must not contain characters that change the direction of text",
            ),
            ("a name too long", {"display_name": "A" * 121}, "120 characters or fewer"),
            ("no password", {"password": ""}, "Create a password"),
            ("a common password", {"password": "password12"}, "common"),
        )
    ),
    Hostile(
        "email confirmation with a link nobody was sent",
        "POST",
        "/create-account/confirm",
        "This link has expired or has already been used",
        status=409,
        page=True,
        form={"token": "not-a-token-anyone-was-sent"},
    ),
    Hostile(
        "email confirmation with NUL in the token",
        "POST",
        "/create-account/confirm",
        "must not contain control characters",
        page=True,
        form={"token": f"abc{NUL}def"},
    ),
    # --- CPD: the activity log and rule packs (issue 14's "Bad input") ------------------------
    *(
        Hostile(
            f"CPD activity API: {case}",
            "POST",
            "/api/v1/me/cpd/activities",
            says,
            role=Role.practitioner,
            json=_activity_json(**changes),
            setup=_on_register,
        )
        for case, changes, says in (
            ("title with NUL", {"title": f"Read{NUL}ing"}, "Title must not contain control"),
            (
                "peer role with RLO",
                {"peer_reflection": True, "peer_role": f"Tutor{RLO}"},
                "The peer's role must not contain characters that change the direction",
            ),
            ("hours of zero", {"hours": 0}, "Hours must be more than 0"),
            ("hours not a quarter", {"hours": 0.3}, "Hours must be in quarter hours"),
            ("hours over 24", {"hours": 24.25}, "Hours must be 24 or fewer"),
            ("hours as words", {"hours": "an hour"}, "Hours must be a number"),
            ("hours NaN", {"hours": "NaN"}, "Hours must be a number"),
            ("hours infinite", {"hours": "-Infinity"}, "Hours must be a number"),
            ("a future date", {"done_on": "2999-01-01"}, "must be today or in the past"),
            ("a date before joining", {"done_on": "2020-03-31"}, "on or after the day you joined"),
            ("an unknown area", {"practice_areas": ["astrology"]}, "not a practice area"),
            ("an unknown standard", {"standards": ["x_files"]}, "not a standard of CPD"),
            (
                "a reflection over 10,000 characters",
                {"practice_changed": "x" * 10_001},
                "How your practice changed must be 10,000 characters or fewer",
            ),
            (
                "a date beyond the calendar",
                {"done_on": "9999-12-31"},
                "The date must be from the year 1900 to 2999",
            ),
            ("a code of 41 characters", {"standards": ["s" * 41]}, "A code must be 40 characters"),
        )
    ),
    Hostile(
        "CPD activity API with hours of 1e309",
        "POST",
        "/api/v1/me/cpd/activities",
        "The request body is not valid JSON",  # an infinite number is no JSON number
        status=400,
        role=Role.practitioner,
        body=b'{"title": "Reading", "done_on": "2020-06-01", "hours": 1e309,'
        b' "activity_type": "other", "participatory": false, "practice_areas": ["ethics"]}',
        setup=_on_register,
    ),
    *(
        Hostile(
            f"CPD activity page: {case}",
            "POST",
            "/cpd/activities/new",
            says,
            role=Role.practitioner,
            page=True,
            form=_activity_form(**changes),
            setup=_on_register,
        )
        for case, changes, says in (
            ("title with NUL", {"title": f"Read{NUL}ing"}, "Title must not contain control"),
            ("hours Infinity", {"hours": "Infinity"}, "Hours must be a number"),
            ("hours 25", {"hours": "25"}, "Hours must be 24 or fewer"),
            ("a date in the year 10000", {"done_on-year": "10000"}, "Year must include 4 numbers"),
            ("no practice area", {"practice_areas": ""}, "Select at least one practice area"),
        )
    ),
    Hostile(
        "CPD evidence: an executable named .pdf",
        "POST",
        "/cpd/activities/{activity}/evidence",
        "The selected file must be a PDF, PNG or JPEG",
        role=Role.practitioner,
        page=True,
        files={"evidence": ("report.pdf", b"MZ\x90\x00\x03 not a pdf", "application/pdf")},
        setup=_one_activity,
    ),
    Hostile(
        "CPD evidence API: a file over 10 MB",
        "POST",
        "/api/v1/me/cpd/activities/{activity}/evidence",
        "The selected file must be smaller than 10 MB",
        role=Role.practitioner,
        files={"data": ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf")},
        setup=_one_activity,
    ),
    Hostile(
        "CPD progress API for the year 99999",
        "GET",
        "/api/v1/me/cpd/progress",
        "Registration year must be 2,999 or less",
        role=Role.practitioner,
        params={"year": "99999"},
        setup=_on_register,
    ),
    *(
        Hostile(
            f"CPD export {path} with NUL in the query",
            "GET",
            path,
            "Format must not contain control characters",
            role=Role.practitioner,
            page=page,
            params={"format": f"csv{NUL}"},
            setup=_on_register,
        )
        for path, page in (
            ("/cpd/export.csv", True),
            ("/cpd/export.json", True),
            ("/api/v1/me/cpd/export.csv", False),
            ("/api/v1/me/cpd/export.json", False),
        )
    ),
    Hostile(
        "CPD rule pack API with NUL in the name",
        "POST",
        "/api/v1/admin/cpd/rule-packs",
        "Name must not contain control characters",
        role=Role.admin,
        json=_pack_json(name=f"Next{NUL}"),
    ),
    Hostile(
        "CPD rule pack API with NaN hours",
        "POST",
        "/api/v1/admin/cpd/rule-packs",
        "Minimum total hours must be a number",
        role=Role.admin,
        json=_pack_json(min_total_hours="nan"),
    ),
    Hostile(
        "CPD rule pack API starting today",
        "POST",
        "/api/v1/admin/cpd/rule-packs",
        "must be in the future",
        role=Role.admin,
        json=_pack_json(effective_from="2000-01-01"),
    ),
    # --- CPD exemptions: asked by the practitioner, decided by a registrar ---------------------
    *(
        Hostile(
            f"CPD exemption API: {case}",
            "POST",
            "/api/v1/me/cpd/exemptions",
            says,
            role=Role.practitioner,
            json=_exemption_json(**changes),
            setup=_on_register,
        )
        for case, changes, says in (
            ("last day before the first", {"ends_on": "2021-01-01"}, "The last day must be"),
            ("other without a reason", {"kind": "other"}, "Say why you need an exemption"),
            ("an unknown kind", {"kind": "holiday"}, "Reason for the exemption must be"),
            ("details with NUL", {"reason": f"ill{NUL}"}, "Details must not contain control"),
            ("details too long", {"reason": "x" * 5_001}, "Details must be 5,000 characters"),
            ("a date beyond the calendar", {"ends_on": "9999-01-01"}, "from the year 1900"),
            (
                "days before joining",
                {"starts_on": "2019-01-01", "ends_on": "2019-06-30"},
                "after you joined the register",
            ),
        )
    ),
    *(
        Hostile(
            f"CPD exemption page: {case}",
            "POST",
            "/cpd/exemptions/new",
            says,
            role=Role.practitioner,
            page=True,
            form=_exemption_form(**changes),
            setup=_on_register,
        )
        for case, changes, says in (
            ("no kind", {"kind": ""}, "Select why you need an exemption"),
            (
                "no last day",
                {"ends_on-day": "", "ends_on-month": "", "ends_on-year": ""},
                "Enter the last day",
            ),
            (
                "a first day of 31 February",
                {"starts_on-day": "31", "starts_on-month": "2"},
                "First day must be a real date",
            ),
        )
    ),
    Hostile(
        "refusing an exemption without a reason",
        "POST",
        "/api/v1/cpd/exemptions/{exemption}/refuse",
        "Say why the exemption is refused",
        role=Role.registrar,
        json={"reason": "  "},
        setup=_exemption_asked,
    ),
    Hostile(
        "refusing an exemption page with NUL in the reason",
        "POST",
        "/registrar/cpd/exemptions/{exemption}/refuse",
        "must not contain control characters",
        role=Role.registrar,
        page=True,
        form={"reason": f"no{NUL}"},
        setup=_exemption_asked,
    ),
    *(
        Hostile(
            f"exemption {BEYOND_INT}: {method} {path}",
            method,
            path,
            NOT_FOUND,
            404,
            Role.registrar,
            page,
        )
        for method, path, page in (
            ("GET", f"/api/v1/cpd/exemptions/{BEYOND_INT}", False),
            ("POST", f"/api/v1/cpd/exemptions/{BEYOND_INT}/grant", False),
            ("GET", f"/registrar/cpd/exemptions/{BEYOND_INT}", True),
            ("POST", f"/registrar/cpd/exemptions/{BEYOND_INT}/grant", True),
        )
    ),
    Hostile(
        "CPD statement API for the year 99999",
        "POST",
        "/api/v1/me/cpd/statements",
        "Registration year must be 2,999 or less",
        role=Role.practitioner,
        params={"year": "99999"},
        setup=_on_register,
    ),
    Hostile(
        "CPD statement page for a year in words",
        "POST",
        "/cpd/statement",
        "Choose a registration year",
        role=Role.practitioner,
        page=True,
        form={"year": "last year"},
        setup=_on_register,
    ),
    # --- CPD audit: a profile, an assessor's and a registrar's decisions ----------------------
    Hostile(
        "CPD audit profile with NUL in the summary",
        "POST",
        "/api/v1/me/cpd/audit/1/profile",
        "Summary of practice must not contain control characters",
        role=Role.practitioner,
        json={"summary_of_practice": f"Court{NUL}", "activity_ids": [1], "statements": {}},
        setup=_on_register,
    ),
    Hostile(
        "CPD audit profile with an activity id beyond any",
        "POST",
        "/api/v1/me/cpd/audit/1/profile",
        "Activities chosen must be 2,147,483,647 or less",
        role=Role.practitioner,
        json={"summary_of_practice": "Court", "activity_ids": [HUGER], "statements": {}},
        setup=_on_register,
    ),
    Hostile(
        "CPD audit assessment with an unknown outcome",
        "POST",
        "/api/v1/cpd/audit/cases/1/assessment",
        "Outcome must be",
        role=Role.cpd_assessor,
        json={"outcome": "splendid", "reasons": "Very good"},
    ),
    Hostile(
        "CPD audit decision with reasons over 10,000 characters",
        "POST",
        "/api/v1/cpd/audit/cases/1/decision",
        "Reasons must be 10,000 characters or fewer",
        role=Role.registrar,
        json={"decision": "advise", "reasons": "x" * 10_001},
    ),
    *(
        Hostile(f"audit case {BEYOND_INT}: {method} {path}", method, path, NOT_FOUND, 404, role)
        for method, path, role in (
            ("GET", f"/api/v1/cpd/audit/cases/{BEYOND_INT}", Role.cpd_assessor),
            ("POST", f"/api/v1/cpd/audit/cases/{BEYOND_INT}/moderation", Role.cpd_assessor),
        )
    ),
    *(
        Hostile(
            f"audit case page {BEYOND_INT}: {method} {path}",
            method,
            path,
            NOT_FOUND,
            404,
            role,
            page=True,
        )
        for method, path, role in (
            ("GET", f"/cpd/audit/{BEYOND_INT}", Role.practitioner),
            ("POST", f"/cpd/audit/{BEYOND_INT}/submit", Role.practitioner),
            ("GET", f"/cpd/audit/cases/{BEYOND_INT}", Role.cpd_assessor),
            ("POST", f"/cpd/audit/cases/{BEYOND_INT}/assessment", Role.cpd_assessor),
            ("POST", f"/cpd/audit/cases/{BEYOND_INT}/decision", Role.registrar),
        )
    ),
    *(
        Hostile(
            f"CPD audit profile page: {case}",
            "POST",
            f"/cpd/audit/{{case}}/{action}",
            says,
            role=Role.practitioner,
            page=True,
            form=form,
            setup=_audit_case,
        )
        for case, action, form, says in (
            (
                "NUL in the summary",
                "profile",
                {"summary_of_practice": f"Court{NUL}", "activity_ids": "1"},
                "must not contain control characters",
            ),
            (
                "an activity id beyond any",
                "profile",
                {"summary_of_practice": "Court", "activity_ids": HUGER},
                "Activities chosen must be 2,147,483,647 or less",
            ),
            (
                "an activity id in words",
                "submit",
                {"summary_of_practice": "Court", "activity_ids": "the course"},
                "Activities chosen must be a whole number",
            ),
            (
                "no activity chosen",
                "submit",
                {"summary_of_practice": "Court"},
                "Choose at least one activity to show",
            ),
            ("information with NUL", "information", {"information": f"a{NUL}"}, "control"),
        )
    ),
    Hostile(
        "CPD audit queue: a status nobody has",
        "GET",
        "/cpd/audit/cases",
        "Status must be",
        role=Role.cpd_assessor,
        page=True,
        params={"state": "splendid"},
    ),
    *(
        Hostile(
            f"CPD audit assessment page: {case}",
            "POST",
            "/cpd/audit/cases/{case}/assessment",
            says,
            role=Role.cpd_assessor,
            page=True,
            form=form,
            setup=_audit_case,
        )
        for case, form, says in (
            ("an unknown outcome", {"outcome": "splendid", "reasons": "Good"}, "Outcome must be"),
            ("no reasons", {"outcome": "meets", "reasons": "  "}, "Enter your reasons"),
            (
                "a version beyond any",
                {"outcome": "meets", "reasons": "Good", "version": HUGER},
                "2,147,483,647 or less",
            ),
            ("NUL in the reasons", {"outcome": "meets", "reasons": f"a{NUL}"}, "control"),
        )
    ),
    Hostile(
        "CPD moderation page: neither yes nor no",
        "POST",
        "/cpd/audit/cases/{case}/moderation",
        "must be",
        role=Role.cpd_assessor,
        page=True,
        form={"agrees": "perhaps", "notes": "Hmm"},
        setup=_audit_case,
    ),
    *(
        Hostile(
            f"CPD audit decision page: {case}",
            "POST",
            "/cpd/audit/cases/{case}/decision",
            says,
            role=Role.registrar,
            page=True,
            form=form,
            setup=_audit_case,
        )
        for case, form, says in (
            ("an unknown decision", {"decision": "pardon", "reasons": "x"}, "Decision must be"),
            (
                "more time to 31 February",
                {
                    "decision": "extend",
                    "reasons": "Time",
                    "new_due_on-day": "31",
                    "new_due_on-month": "2",
                    "new_due_on-year": "2030",
                },
                "The new date must be a real date",
            ),
            (
                "more time with no date",
                {"decision": "extend", "reasons": "Time"},
                "Give a new date in the future",
            ),
            (
                "more time to a year beyond the calendar",
                {
                    "decision": "extend",
                    "reasons": "Time",
                    "new_due_on-day": "1",
                    "new_due_on-month": "1",
                    "new_due_on-year": "9999",
                },
                "from the year 1900 to 2999",
            ),
        )
    ),
    Hostile(
        "a second confirmation link for a confirmed address",
        "POST",
        "/create-account/resend",
        "Your email address is already confirmed",
        status=409,
        role=Role.practitioner,
        page=True,
    ),
    # --- verifying a certificate -------------------------------------------------------------
    Hostile(
        "verify an unknown serial",
        "POST",
        "/api/v1/verify",
        "No certificate has the serial 0000-0000-0000-0000-0000-0000-000",
        status=404,
        json={"serial": "0000-0000-0000-0000-0000-0000-000"},
    ),
    Hostile(
        "verify a serial with one mistyped character",
        "POST",
        "/api/v1/verify",
        "its last character does not match the rest",
        json={"serial": "0000-0000-0000-0000-0000-0000-001"},
    ),
    Hostile(
        "verify a serial of the wrong length",
        "POST",
        "/api/v1/verify",
        "a serial has 27 letters and digits",
        json={"serial": "PR1000011"},
    ),
    Hostile(
        "verify a serial with NUL",
        "POST",
        "/api/v1/verify",
        "must not contain control characters",
        json={"serial": f"0000{NUL}"},
    ),
    Hostile(
        "verify a serial with RLO",
        "POST",
        "/api/v1/verify",
        "must not contain characters that change the direction of text",
        json={"serial": f"0000{RLO}"},
    ),
    Hostile(
        "verify a serial of 61 characters",
        "POST",
        "/api/v1/verify",
        "60 characters or fewer",
        json={"serial": "0" * 61},
    ),
    Hostile(
        "verify JSON that is not a credential",
        "POST",
        "/api/v1/verify",
        "That is not a certificate credential",
        json={"credential": {"name": "Jane Smith", "valid": True}},
    ),
    Hostile(
        "verify a credential that is not an object",
        "POST",
        "/api/v1/verify",
        "Credential",
        json={"credential": ["not", "an", "object"]},
    ),
    Hostile(
        "verify with neither serial nor credential",
        "POST",
        "/api/v1/verify",
        "Send either the certificate's serial or its credential",
        json={},
    ),
    Hostile(
        "verify a body that is not JSON",
        "POST",
        "/api/v1/verify",
        "The request body is not valid JSON",
        status=400,
        body=b"serial=0000",
    ),
    Hostile(
        "verify a body over 64 KB",
        "POST",
        "/api/v1/verify",
        "too large",
        status=413,
        json={"credential": {"padding": "x" * 70_000}},
    ),
    Hostile(
        "a status list that does not exist",
        "GET",
        "/status-lists/revocation-999",
        "There is no status list called revocation-999",
        status=404,
    ),
    Hostile("a status list with NUL", "GET", "/status-lists/rev%00", NOT_FOUND, status=404),
    # --- the verification pages and a practitioner's own certificates -------------------------
    Hostile(
        "verify page: an unknown serial in the address",
        "GET",
        "/verify/0000-0000-0000-0000-0000-0000-000",
        "No certificate has the serial 0000-0000-0000-0000-0000-0000-000",
        status=404,
        page=True,
    ),
    Hostile(
        "verify page: a mistyped serial in the address",
        "GET",
        "/verify/0000-0000-0000-0000-0000-0000-001",
        "its last character does not match the rest",
        page=True,
    ),
    Hostile(
        "verify page: NUL in the address",
        "GET",
        "/verify/0000%00",
        NOT_FOUND,
        status=404,
        page=True,
    ),
    Hostile(
        "verify page: a serial with NUL typed in",
        "POST",
        "/verify",
        "must not contain control characters",
        page=True,
        form={"serial": f"0000{NUL}"},
    ),
    Hostile(
        "verify page: an unknown serial typed in",
        "POST",
        "/verify",
        "No certificate has the serial 0000-0000-0000-0000-0000-0000-000",
        status=404,
        page=True,
        form={"serial": "0000-0000-0000-0000-0000-0000-000"},
    ),
    Hostile(
        "verify page: a serial of 200 characters typed in",
        "POST",
        "/verify",
        "is not a certificate serial",
        page=True,
        form={"serial": "7" * 200},
    ),
    Hostile(
        "verify page: an uploaded file that is not JSON",
        "POST",
        "/verify",
        "this file is not JSON",
        page=True,
        files={"credential": ("certificate.json", b"%PDF-1.7\x00\xff", "application/json")},
    ),
    Hostile(
        "verify page: uploaded JSON that is not a credential",
        "POST",
        "/verify",
        "That is not a certificate credential",
        page=True,
        files={"credential": ("c.json", b'{"name": "Jane Smith"}', "application/json")},
    ),
    Hostile(
        "verify page: an uploaded file over 64 KB",
        "POST",
        "/verify",
        "The file must be 64 KB or smaller",
        page=True,
        files={"credential": ("c.json", b" " * 70_000 + b"{}", "application/json")},
    ),
    Hostile(
        "verify page: an upload whose name has RLO",
        "POST",
        "/verify",
        "must not contain characters that change the direction of text",
        page=True,
        files={"credential": (f"c{RLO}nosj.exe", b"{}", "application/json")},
    ),
    Hostile(
        "your certificate's PDF: a serial nobody has",
        "GET",
        "/your-certificates/0000-0000-0000-0000-0000-0000-000/pdf",
        "No certificate has the serial",
        status=404,
        role=Role.practitioner,
        page=True,
    ),
    Hostile(
        "your certificate's file: a mistyped serial",
        "GET",
        "/your-certificates/0000-0000-0000-0000-0000-0000-001/json",
        "its last character does not match the rest",
        role=Role.practitioner,
        page=True,
    ),
    Hostile(
        "your certificate in the API: a mistyped serial",
        "GET",
        "/api/v1/me/certificates/0000-0000-0000-0000-0000-0000-001",
        "its last character does not match the rest",
        role=Role.practitioner,
    ),
    Hostile(
        "registrar's certificates: a number nobody has",
        "GET",
        "/registrar/certificates/PR9999990",
        "PR9999990 is not on the register",
        status=404,
        role=Role.registrar,
        page=True,
    ),
    Hostile(
        "registrar's certificates: NUL in the number searched for",
        "GET",
        "/registrar/certificates",
        "must not contain control characters",
        role=Role.registrar,
        page=True,
        params={"number": f"PR1{NUL}"},
    ),
    Hostile(
        "registrar revokes: a mistyped number",
        "POST",
        "/registrar/certificates/PR9999999/0000-0000-0000-0000-0000-0000-000/revoke",
        "PR9999999 is not a valid registration number",
        role=Role.registrar,
        page=True,
        form={"step": "confirm", "reason": "Issued in error"},
    ),
    Hostile(
        "registrar revokes: something that is not an action",
        "POST",
        "/registrar/certificates/PR9999999/0000-0000-0000-0000-0000-0000-000/delete",
        "There is no such thing to do to a certificate",
        status=404,
        role=Role.registrar,
        page=True,
        form={"step": "confirm", "reason": "Issued in error"},
    ),
    Hostile(
        "your certificate in the API: NUL",
        "GET",
        "/api/v1/me/certificates/0000%00",
        NOT_FOUND,
        status=404,
        role=Role.practitioner,
    ),
    # --- fitness to practise ------------------------------------------------------------------
    Hostile(
        "concern: NUL in what happened",
        "POST",
        "/api/v1/concerns",
        "What happened must not contain control characters",
        json=_concern_json(what_happened=f"They{NUL} shouted"),
    ),
    Hostile(
        "concern: a name that reverses its text",
        "POST",
        "/api/v1/concerns",
        "must not contain characters that change the direction of text",
        json=_concern_json(raiser_name=f"Rae{RLO}Iser"),
    ),
    Hostile(
        "concern: an unknown kind of concern",
        "POST",
        "/api/v1/concerns",
        "'parking' is not a kind of concern",
        json=_concern_json(categories=["parking"]),
    ),
    Hostile(
        "concern: the public posing as the regulator",
        "POST",
        "/api/v1/concerns",
        "Only the regulator's staff open a concern on its own motion",
        json=_concern_json(relationship="regulator"),
    ),
    Hostile(
        "concern: a malformed registration number",
        "POST",
        "/api/v1/concerns",
        "'XX1' is not a registration number",
        json=_concern_json(about_number="XX1"),
    ),
    Hostile(
        "case: a move out of order",
        "POST",
        "/api/v1/cases/{case}/moves",
        "so it cannot make the move 'open_investigation'",
        status=409,
        role=Role.caseworker,
        setup=_case_at("received"),
        json={"move": "open_investigation", "version": 1, "reason": "Go"},
    ),
    Hostile(
        "case: a four-year suspension",
        "POST",
        "/api/v1/cases/{case}/moves",
        "Suspension lasts from 1 to 12 months",
        role=Role.adjudicator,
        setup=_case_at("hearing"),
        json={
            "move": "impaired",
            "version": 7,
            "reason": "Impaired",
            "sanction": {"kind": "suspension", "months": 48, "summary": "Four years"},
        },
    ),
    Hostile(
        "case: an interim order beyond 18 months without a court order",
        "POST",
        "/api/v1/cases/{case}/interim-orders",
        "18 months at most",
        role=Role.adjudicator,
        setup=_case_at("investigation"),
        json={
            "kind": "interim_suspension",
            "months": 19,
            "reason": "Risk",
            "version": 3,
        },
    ),
    Hostile(
        "case: a decision by a role not allowed to make it",
        "POST",
        "/api/v1/cases/{case}/moves",
        "is for case_examiner only",
        status=403,
        role=Role.caseworker,
        setup=_case_at("case_examiners"),
        json={"move": "no_case_to_answer", "version": 5, "reason": "None"},
    ),
    Hostile(
        "case: an id beyond any column",
        "GET",
        f"/api/v1/cases/{BEYOND_INT}",
        NOT_FOUND,
        status=404,
        role=Role.caseworker,
    ),
    Hostile(
        "your case: someone else's",
        "GET",
        "/api/v1/me/cases/{case}",
        "There is no such fitness to practise case",
        status=404,
        role=Role.practitioner,
        setup=_anothers_case,
    ),
    Hostile(
        "your case page: someone else's",
        "GET",
        "/your-cases/{case}",
        "There is no such fitness to practise case",
        status=404,
        role=Role.practitioner,
        page=True,
        setup=_anothers_case,
    ),
    Hostile(
        "your case page: a response to someone else's case",
        "POST",
        "/your-cases/{case}/response",
        "There is no such fitness to practise case",
        status=404,
        role=Role.practitioner,
        page=True,
        setup=_anothers_case,
        form={"response": "Not me"},
    ),
    Hostile(
        "your case page: an .exe named .pdf with the response",
        "POST",
        "/your-cases/{case}/response",
        "The selected file must be a PDF, PNG or JPEG",
        role=Role.practitioner,
        page=True,
        setup=_own_case_at("investigation"),
        form={"response": "Attached"},
        files={"evidence": ("statement.pdf", b"MZ\x90\x00\x03 a program", "application/pdf")},
    ),
    Hostile(
        "your case page: a response with NUL in it",
        "POST",
        "/your-cases/{case}/response",
        "must not contain",
        role=Role.practitioner,
        page=True,
        setup=_own_case_at("investigation"),
        form={"response": f"I{NUL} did not"},
    ),
    Hostile(
        "your case page: an answer that is neither accept nor reject",
        "POST",
        "/your-cases/{case}/outcome",
        "Choose whether you accept or reject the outcome",
        role=Role.practitioner,
        page=True,
        setup=_own_case_at("accepted_outcome"),
        form={"decision": "maybe", "confirmed": "yes", "version": "7"},
    ),
    Hostile(
        "your case page: a confirmed answer with a version beyond any integer",
        "POST",
        "/your-cases/{case}/outcome",
        "The page was out of date",
        role=Role.practitioner,
        page=True,
        setup=_own_case_at("accepted_outcome"),
        form={"decision": "accept", "confirmed": "yes", "version": HUGER},
    ),
    Hostile(
        "your case: a document id beyond any column",
        "GET",
        f"/api/v1/me/cases/{{case}}/documents/{BEYOND_INT}",
        NOT_FOUND,
        status=404,
        role=Role.practitioner,
        setup=_own_case_at("investigation"),
    ),
    Hostile(
        "published decisions: a malformed number",
        "GET",
        "/api/v1/register/XX1/decisions",
        "'XX1' is not a registration number",
    ),
    Hostile(
        "concern attachment: an .exe named .pdf",
        "POST",
        "/api/v1/concerns/attachments",
        "The selected file must be a PDF, PNG or JPEG",
        files={"data": ("invoice.pdf", b"MZ\x90\x00\x03 a program", "application/pdf")},
    ),
    Hostile(
        "concern attachment: an empty file",
        "POST",
        "/api/v1/concerns/attachments",
        "The selected file is empty",
        files={"data": ("empty.pdf", b"", "application/pdf")},
    ),
    Hostile(
        "concern: a forged attachment token",
        "POST",
        "/api/v1/concerns",
        "could not be found or has expired",
        json=_concern_json(attachments=["1.1700000000." + "0" * 64]),
    ),
    Hostile(
        "concern page: an .exe named .pdf attached",
        "POST",
        "/raise-a-concern",
        "The selected file must be a PDF, PNG or JPEG",
        page=True,
        form={**_concern_form(), "step": "attachments", "action": "upload"},
        files={"attachment_file": ("invoice.pdf", b"MZ\x90\x00 a program", "application/pdf")},
    ),
    Hostile(
        "concern page: a guessed attachment id, on sending",
        "POST",
        "/raise-a-concern",
        "could not be found or has expired",
        page=True,
        form=_concern_form(attachments="1"),
    ),
    Hostile(
        "concern page: an attachment token with a superscript id, on sending",
        "POST",
        "/raise-a-concern",
        "could not be found or has expired",
        page=True,
        form=_concern_form(attachments="\u00b2.1700000000." + "0" * 64),
    ),
    Hostile(
        "concern page: NUL in what happened",
        "POST",
        "/raise-a-concern",
        "must not contain control characters",
        page=True,
        form={"step": "what", "what_happened": f"They{NUL} shouted", "categories": "other"},
    ),
    Hostile(
        "concern page: an unknown kind of concern, on sending",
        "POST",
        "/raise-a-concern",
        "is not a kind of concern",  # the page escapes its quotes
        page=True,
        form=_concern_form(categories="parking"),
    ),
    Hostile(
        "concern page: the public posing as the regulator, on sending",
        "POST",
        "/raise-a-concern",
        "staff open a concern on its own motion",
        page=True,
        form=_concern_form(relationship="regulator"),
    ),
    Hostile(
        "concern page: a date it happened that is not a date",
        "POST",
        "/raise-a-concern",
        "The date it happened must be a real date",
        page=True,
        form=_concern_form(**{"happened_on-day": "31", "happened_on-month": "2"}),
    ),
    Hostile(
        "concern page: a name that reverses its text, on sending",
        "POST",
        "/raise-a-concern",
        "must not contain characters that change the direction of text",
        page=True,
        form=_concern_form(raiser_name=f"Rae{RLO}Iser"),
    ),
    Hostile(
        "published decisions page: a malformed number",
        "GET",
        "/register/XX1/decisions",
        "is not a registration number",
        page=True,
    ),
    Hostile(
        "published decision page: an id beyond any column",
        "GET",
        f"/register/{numbers.registration_number(1)}/decisions/{BEYOND_INT}",
        NOT_FOUND,
        status=404,
        page=True,
    ),
    Hostile(
        "published decision PDF: a malformed number",
        "GET",
        "/register/XX1/decisions/1/pdf",
        "is not a registration number",
        page=True,
    ),
    Hostile(
        "published decision PDF: an id beyond any column",
        "GET",
        f"/register/{numbers.registration_number(1)}/decisions/{BEYOND_INT}/pdf",
        NOT_FOUND,
        status=404,
        page=True,
    ),
    *CONDUCT_STAFF_CASES,
    *CONDUCT_REVIEW_CASES,
    # --- employers ---------------------------------------------------------------------------
    *EMPLOYER_CASES,
    *WATCHLIST_CASES,
    *WATCHLIST_PAGE_CASES,
    *ANOTHER_ORGANISATIONS,
]


async def _row_counts() -> dict[str, int]:
    tables: list[type[Table]] = registry_tables()
    return {table._meta.tablename: await table.count() for table in tables}


async def _send(client: httpx.AsyncClient, hostile: Hostile) -> httpx.Response:
    headers: dict[str, str] = {}
    person = await user_signed_in_as(hostile.role) if hostile.role else None
    path = hostile.path
    if person is not None and hostile.setup is not None:
        path = path.format(**(await hostile.setup(person) or {}))
    if hostile.page:
        headers |= HTML | await csrf_headers(client)
        if person is not None:
            client.cookies.update(person.cookies())
    elif person is not None:
        headers |= person.bearer()
    if hostile.body is not None:
        headers["content-type"] = "application/json"
    before = await _row_counts()
    response = await client.request(
        hostile.method,
        path,
        params=dict(hostile.params),
        data=dict(hostile.form) or None,
        files=dict(hostile.files) or None,
        json=hostile.json,
        content=hostile.body,
        headers=headers,
    )
    assert await _row_counts() == before, "a refused request stored something"
    return response


@pytest.mark.parametrize("hostile", HOSTILE, ids=[hostile.case for hostile in HOSTILE])
async def test_hostile_input_is_refused_in_plain_english(
    client: httpx.AsyncClient, hostile: Hostile
) -> None:
    response = await _send(client, hostile)

    assert response.status_code == hostile.status, response.text[:2000]
    assert hostile.says in response.text, response.text[:2000]
    for words in VALIDATOR_WORDING:
        assert words not in response.text, response.text[:2000]
    if not hostile.page:
        assert response.headers["content-type"].startswith("application/problem+json")
