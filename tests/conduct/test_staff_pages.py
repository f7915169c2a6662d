"""The fitness to practise staff workspace over HTTP, on both engines: the case list and its
filters, a case's page (its timeline, its read audited, who raised the concern), each move made
through its form, a stale form, out-of-limit terms, assignment, interim orders and their
review, the timeliness charts, and who may not see any of it."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from registry.accounts.roles import Role
from registry.audit.tables import AuditEntry
from registry.conduct import workflow
from registry.conduct.tables import InterimOrder, Sanction, Stage
from registry.register import service as register
from registry.register.tables import RegisterStatus
from tests.accounts.helpers import SignedIn, csrf_headers, user_signed_in_as
from tests.conduct.helpers import (
    TODAY,
    case_at,
    days,
    move,
    new_case,
    people,
    someone_else,
)

HTML = {"accept": "text/html"}


def text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


async def as_(client: httpx.AsyncClient, role: Role, email: str | None = None) -> SignedIn:
    return use(client, await user_signed_in_as(role, email))


def use(client: httpx.AsyncClient, person: SignedIn) -> SignedIn:
    client.cookies.clear()
    client.cookies.update(person.cookies())
    return person


async def post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    headers = HTML | await csrf_headers(client)
    return await client.post(path, data=data, headers=headers)


async def move_form(
    client: httpx.AsyncClient, case_id: int, which: str, **fields: str
) -> httpx.Response:
    case = await workflow.get_case(case_id)
    data = {"move": which, "version": str(case.version)}
    data |= {f"{which}-{name}": value for name, value in fields.items()}
    return await post(client, f"/conduct/cases/{case_id}/moves", data)


async def test_the_list_filters_by_stage_assignment_and_overdue(
    client: httpx.AsyncClient, engine: Any, advance: Callable[[timedelta], None]
) -> None:
    who = await people()
    at_triage = await case_at(Stage.triage, who)
    investigated = await case_at(Stage.investigation, await someone_else(who, "sam@example.org"))
    me = await as_(client, Role.caseworker)
    case = await workflow.get_case(investigated)
    await workflow.assign(investigated, me.account.id, by=who.caseworker, version=case.version)
    triage_ref = (await workflow.get_case(at_triage)).reference
    investigated_ref = case.reference

    listed = await client.get("/conduct/cases", headers=HTML)
    assert listed.status_code == 200
    assert triage_ref in listed.text
    assert investigated_ref in listed.text
    assert listed.text.index(triage_ref) < listed.text.index(investigated_ref)  # oldest first
    only = await client.get("/conduct/cases", params={"stage": "investigation"}, headers=HTML)
    assert investigated_ref in only.text
    assert triage_ref not in only.text
    mine = await client.get("/conduct/cases", params={"assigned": "me"}, headers=HTML)
    assert investigated_ref in mine.text
    assert triage_ref not in mine.text
    nobodys = await client.get("/conduct/cases", params={"assigned": "none"}, headers=HTML)
    assert triage_ref in nobodys.text
    assert investigated_ref not in nobodys.text
    assert ">Overdue</strong>" not in listed.text

    advance(days(29))  # the practitioner's 28 days to respond have passed
    await as_(client, Role.caseworker, "later@example.org")  # the first session idled out
    overdue = await client.get("/conduct/cases", params={"overdue": "yes"}, headers=HTML)
    assert investigated_ref in overdue.text
    assert triage_ref not in overdue.text
    assert '<strong class="govuk-tag govuk-tag--red">Overdue</strong>' in overdue.text

    wrong = await client.get("/conduct/cases", params={"assigned": "2147483648"}, headers=HTML)
    assert wrong.status_code == 422
    assert "Choose whose cases to show from the list" in text(wrong)
    bad_stage = await client.get("/conduct/cases", params={"stage": "limbo"}, headers=HTML)
    assert bad_stage.status_code == 422
    assert 'href="#stage"' in bad_stage.text


async def test_the_case_page_shows_the_timeline_and_who_raised_it_and_audits_the_read(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    await as_(client, Role.case_examiner)
    reads = AuditEntry.count().where(AuditEntry.action == "conduct.case_read")
    before = await reads

    page = await client.get(f"/conduct/cases/{case_id}", headers=HTML)

    assert page.status_code == 200
    words = text(page)
    assert "Investigation opened; practitioner notified" in words
    assert "Triage started" in words
    assert "Concern received" in words
    assert "Rae Iser, rae@example.org" in words  # fitness to practise staff see who raised it
    assert "Pat Smith" in words
    assert "The practitioner's response to the notice: 12 April 2027" in words
    assert "You can make no move on this case now." in words  # examiners wait for a referral
    assert await reads == before + 1


async def test_a_caseworker_opens_an_investigation_through_its_form(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.triage, who)
    await as_(client, Role.caseworker)
    page = await client.get(f"/conduct/cases/{case_id}", headers=HTML)
    assert "Open an investigation" in page.text
    assert 'name="version" value="2"' in page.text

    empty = await move_form(client, case_id, "open_investigation", reason="  ")
    assert empty.status_code == 422
    assert 'href="#open_investigation-reason"' in empty.text
    assert "Enter the reason" in text(empty)
    assert (await workflow.get_case(case_id)).stage is Stage.triage

    moved = await move_form(client, case_id, "open_investigation", reason="Please respond.")
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/conduct/cases/{case_id}?done=moved"
    after = await workflow.get_case(case_id)
    assert after.stage is Stage.investigation
    assert after.notice_text == "Please respond."


async def test_a_stale_form_says_someone_else_moved_the_case_and_shows_the_moves_now(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.received, who)
    await as_(client, Role.caseworker)
    seen = await workflow.get_case(case_id)
    await move(case_id, workflow.Move.start_triage, who)  # someone else, first

    late = await post(
        client,
        f"/conduct/cases/{case_id}/moves",
        {"move": "start_triage", "version": str(seen.version)},
    )

    assert late.status_code == 409
    words = text(late)
    assert "Someone else has changed this case since you opened it" in words
    assert "It is now at 'Triage'. You can now: Close: outside our remit; " in words
    assert "Open an investigation" in words  # the moves there are now, as forms
    now = await workflow.get_case(case_id)
    assert now.stage is Stage.triage
    assert now.version == seen.version + 1
    assert f'name="version" value="{now.version}"' in late.text

    out_of_order = await move_form(client, case_id, "refer_to_case_examiners", reason="Go")
    assert out_of_order.status_code == 409
    assert (
        "is at 'Triage', so it cannot make that move. You can now: Close: outside our remit;"
        in (text(out_of_order))
    )


async def test_out_of_limit_terms_are_shown_beside_their_field_and_nothing_is_stored(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.hearing, who)
    await as_(client, Role.adjudicator)

    four_years = await move_form(
        client,
        case_id,
        "impaired",
        reason="Impaired",
        kind="suspension",
        months="48",
        summary="Suspended",
    )
    assert four_years.status_code == 422
    assert "Suspension lasts from 1 to 12 months" in text(four_years)
    assert 'href="#impaired-months"' in four_years.text
    two_year_warning = await move_form(
        client,
        case_id,
        "impaired",
        reason="Impaired",
        kind="warning",
        months="24",
        summary="Warned",
    )
    assert two_year_warning.status_code == 422
    assert "A warning lasts 1 or 3 or 5 years" in text(two_year_warning)
    no_kind = await move_form(client, case_id, "impaired", reason="Impaired")
    assert 'href="#impaired-kind"' in no_kind.text
    assert "Choose the sanction" in text(no_kind)
    assert await Sanction.count() == 0
    assert (await workflow.get_case(case_id)).stage is Stage.hearing


async def test_a_suspension_from_the_hearing_reaches_the_register_after_the_appeal_period(
    client: httpx.AsyncClient, engine: Any, advance: Callable[[timedelta], None]
) -> None:
    who = await people()
    case_id = await case_at(Stage.case_examiners, who)
    number = who.entry.registration_number
    await as_(client, Role.case_examiner)
    missing_other = await move_form(client, case_id, "refer_to_hearing", reason="Serious")
    assert 'href="#refer_to_hearing-examiner"' in missing_other.text
    referred = await move_form(
        client,
        case_id,
        "refer_to_hearing",
        reason="Serious",
        examiner=str(who.examiner.user_id),
    )
    assert referred.status_code == 303, text(referred)
    assert (await workflow.get_case(case_id)).stage is Stage.hearing

    await as_(client, Role.caseworker)
    panel = {"panel-1": "A Chair", "panel-2": "B Member", "panel-3": "C Member"}
    day = TODAY.date()
    no_venue = await move_form(
        client,
        case_id,
        "schedule_hearing",
        **{
            "hearing_on-day": str(day.day),
            "hearing_on-month": str(day.month),
            "hearing_on-year": str(day.year),
        },
        **panel,
    )
    assert no_venue.status_code == 422
    assert "Give the venue, or say the hearing is held remotely" in text(no_venue)
    scheduled = await move_form(
        client,
        case_id,
        "schedule_hearing",
        **{
            "hearing_on-day": str(day.day),
            "hearing_on-month": str(day.month),
            "hearing_on-year": str(day.year),
        },
        **panel,
        remote="yes",
    )
    assert scheduled.status_code == 303, text(scheduled)

    await as_(client, Role.adjudicator)
    decided = await move_form(
        client,
        case_id,
        "impaired",
        reason="Impaired",
        kind="suspension",
        months="6",
        summary="Suspended for six months",
    )
    assert decided.status_code == 303, text(decided)
    assert (await register.get_entry(who.entry.id)).status is RegisterStatus.registered

    advance(days(29))  # the appeal period has passed (and the sessions have idled out)
    await as_(client, Role.caseworker, "second-caseworker@example.org")
    in_force = await move_form(client, case_id, "sanction_takes_effect")
    assert in_force.status_code == 303, text(in_force)
    public = await client.get(f"/register/{number}", headers=HTML)
    assert "must not practise as a registered probation practitioner while suspended" in text(
        public
    )
    entry = await client.get(f"/api/v1/register/{number}")
    assert entry.json()["status"] == RegisterStatus.suspended.value


async def test_assignment_and_interim_orders_through_their_forms(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    me = await as_(client, Role.caseworker)
    page = await client.get(f"/conduct/cases/{case_id}", headers=HTML)
    assert "Make the interim order" not in page.text  # adjudicators only
    version = (await workflow.get_case(case_id)).version
    assigned = await post(
        client,
        f"/conduct/cases/{case_id}/assignment",
        {"assign-caseworker": str(me.account.id), "version": str(version)},
    )
    assert assigned.status_code == 303
    assert (await workflow.get_case(case_id)).assigned_to == me.account.id
    again = await post(
        client,
        f"/conduct/cases/{case_id}/assignment",
        {"assign-caseworker": str(me.account.id), "version": str(version)},
    )
    assert again.status_code == 409
    assert "Someone else has changed this case" in text(again)

    await as_(client, Role.adjudicator)
    version = (await workflow.get_case(case_id)).version
    order_form = {
        "interim-kind": "interim_suspension",
        "interim-months": "19",
        "interim-reason": "A risk to the public",
        "version": str(version),
    }
    too_long = await post(client, f"/conduct/cases/{case_id}/interim-orders", order_form)
    assert too_long.status_code == 422
    assert 'href="#interim-months"' in too_long.text
    assert await InterimOrder.count() == 0
    made = await post(
        client, f"/conduct/cases/{case_id}/interim-orders", order_form | {"interim-months": "6"}
    )
    assert made.status_code == 303, text(made)
    assert (await register.get_entry(who.entry.id)).status is RegisterStatus.suspended
    [order] = await InterimOrder.select(InterimOrder.id)
    page = await client.get(f"/conduct/cases/{case_id}", headers=HTML)
    assert "Review the interim order" in text(page)
    version = (await workflow.get_case(case_id)).version
    revoked = await post(
        client,
        f"/conduct/cases/{case_id}/interim-orders/{order['id']}/reviews",
        {"review-outcome": "revoke", "review-reason": "No longer needed", "version": str(version)},
    )
    assert revoked.status_code == 303, text(revoked)
    assert (await register.get_entry(who.entry.id)).status is RegisterStatus.registered
    elsewhere = await post(
        client,
        f"/conduct/cases/{case_id + 1000}/interim-orders/{order['id']}/reviews",
        {"review-outcome": "revoke", "review-reason": "x", "version": "1"},
    )
    assert elsewhere.status_code == 404


async def test_the_timeliness_page_draws_each_figure_with_a_table_beside_it(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    await case_at(Stage.investigation, who)
    await case_at(Stage.closed, await someone_else(who, "sam@example.org"))
    await as_(client, Role.adjudicator)

    page = await client.get("/conduct/timeliness", headers=HTML)

    assert page.status_code == 200
    assert page.text.count('role="img"') == 3  # no case examiners' decision yet
    assert "No decisions of this kind yet" in text(page)
    assert '<title id="chart-triage-title">' in page.text
    assert '<desc id="chart-caseload-desc">' in page.text
    assert 'id="triage-table"' in page.text
    assert 'id="caseload-table"' in page.text
    assert "2027-Q1" in page.text
    assert 'href="/api/v1/conduct/timeliness/csv"' in page.text


async def test_the_workspace_is_in_staff_navigation_and_closed_to_others(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    await as_(client, Role.caseworker)
    account = await client.get("/account", headers=HTML)
    assert 'href="/conduct/cases"' in account.text
    for role in (Role.practitioner, Role.employer, Role.registrar):
        await as_(client, role)
        refused = await client.get(f"/conduct/cases/{case_id}", headers=HTML)
        assert refused.status_code == 403, role
        home = await client.get("/account", headers=HTML)
        assert 'href="/conduct/cases"' not in home.text


async def test_interim_review_reminders_link_to_the_case_page(
    engine: Any, settings: Any, advance: Callable[[timedelta], None]
) -> None:
    from registry.conduct import interim_orders, register_effect
    from registry.conduct.tables import InterimKind
    from registry.core import clock
    from registry.core.scheduler import JobContext
    from registry.notifications.tables import OutboxMessage

    who = await people()
    case_id = await case_at(Stage.investigation, who)
    case = await workflow.get_case(case_id)
    order = await interim_orders.make(
        case_id,
        InterimKind.interim_suspension,
        months=12,
        conditions="",
        reason="Risk",
        by=who.adjudicator,
        version=case.version,
    )
    advance(order.next_review_on - TODAY.date())
    await register_effect.keep_register_in_step(JobContext(clock.now(), settings))
    [sent] = await OutboxMessage.select(OutboxMessage.body).where(
        OutboxMessage.template == "conduct_interim_review_due"
    )
    assert json.loads(sent["body"])["path"] == f"/conduct/cases/{case_id}"


async def test_a_caseworker_identifies_who_a_flagged_concern_is_about(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await new_case(who, about_number="", about_name="Pat", about_workplace="Leeds")
    await as_(client, Role.caseworker)
    page = await client.get(f"/conduct/cases/{case_id}", headers=HTML)
    assert "Not identified" in text(page)
    version = str((await workflow.get_case(case_id)).version)

    unknown = await post(
        client,
        f"/conduct/cases/{case_id}/identification",
        {"identify-registration_number": "PR9999999", "version": version},
    )
    assert unknown.status_code == 422
    assert 'href="#identify-registration_number"' in unknown.text
    identified = await post(
        client,
        f"/conduct/cases/{case_id}/identification",
        {"identify-registration_number": who.entry.registration_number, "version": version},
    )
    assert identified.status_code == 303, text(identified)
    assert (await workflow.get_case(case_id)).entry_id == who.entry.id
