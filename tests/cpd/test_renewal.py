"""The renewal's tie-in to CPD: renewing needs the closing year's requirement met, or days a
registrar exempted, which shrink every target pro rata."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from registry.accounts.roles import Role
from registry.audit.service import search as audit_search
from registry.core import clock
from registry.cpd import activities, exemptions, progress
from registry.cpd.schemas import ExemptionIn
from registry.cpd.tables import ExemptionState
from registry.errors import Conflict, InvalidInput
from registry.register import renewals
from registry.register.renewals import Declarations
from tests.accounts.helpers import SignedIn, csrf_headers, sign_in, user_signed_in_as
from tests.cpd.helpers import CALENDAR, log, practitioner_with_record

HTML = {"accept": "text/html"}
IN_THE_WINDOW = datetime(2027, 9, 10, 9, tzinfo=UTC)
NOTHING_TO_DECLARE = Declarations(character=False)


def exemption(**changes: Any) -> ExemptionIn:
    values = {
        "kind": "parental_leave",
        "starts_on": date(2026, 12, 1),
        "ends_on": date(2027, 5, 31),
        **changes,
    }
    return ExemptionIn.model_validate(values)


async def meet_the_requirement(person: SignedIn) -> None:
    """The default pack's five rules, each met exactly."""
    for number, area in enumerate(("risk_assessment", "desistance", "victims")):
        await log(
            person,
            title=f"Activity {number}",
            hours=Decimal(10),
            participatory=number == 0,
            practice_areas=[area],
            what_happened="A" if number < 2 else "",
            what_learned="B",
            practice_changed="C",
            peer_reflection=number == 0,
            peer_role="Tutor" if number == 0 else "",
        )


async def _renewal(person: SignedIn) -> renewals.RenewalState:
    entry = await renewals.practitioner_entry(person.account.id)
    assert entry is not None
    return await renewals.renewal_state(entry, CALENDAR, clock.now().date())


async def _renew(person: SignedIn) -> Any:
    owner = await activities.owner_of(person.account.id)
    return await renewals.renew(
        owner.entry_id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=person.account.id
    )


async def test_renewal_is_refused_until_the_year_is_met_and_says_what_is_missing(
    engine: Any,
) -> None:
    person = await practitioner_with_record()
    await log(person, hours=Decimal("12.5"), practice_areas=["risk_assessment"])
    with clock.frozen_at(IN_THE_WINDOW):
        state = await _renewal(person)
        assert not state.can_renew
        assert [item.text for item in state.missing] == [
            "Total hours: 12.5 / 30 hours, 17.5 more hours",
            "Reflective accounts: 0 / 2 accounts, 2 more accounts",
            "Activities with peer reflection: 0 / 1 activities, 1 more activities",
            "Practice areas covered: 1 / 3 areas, 2 more areas",
        ]
        assert {item.href for item in state.missing} == {"/cpd/activities/new"}
        with pytest.raises(Conflict, match="until your CPD for the year to 30 November 2027"):
            await _renew(person)
    with clock.frozen_at(datetime(2027, 3, 16, 9, tzinfo=UTC)):
        await meet_the_requirement(person)
    with clock.frozen_at(IN_THE_WINDOW):
        assert (await _renewal(person)).can_renew
        renewed = await _renew(person)
    assert renewed.public.registered_until == date(2028, 11, 30)


async def test_a_rule_one_short_still_blocks_renewal(engine: Any) -> None:
    person = await practitioner_with_record()
    await meet_the_requirement(person)
    last = (await activities.list_for(person.account.id, CALENDAR))[0]
    await activities.delete(person.account.id, last.id, CALENDAR)  # 20 hours and 2 areas left
    with clock.frozen_at(IN_THE_WINDOW):
        assert [item.text.split(":")[0] for item in (await _renewal(person)).missing] == [
            "Total hours",
            "Practice areas covered",
        ]


async def test_a_granted_exemption_scales_every_target_pro_rata(engine: Any) -> None:
    person = await practitioner_with_record()
    registrar = await user_signed_in_as(Role.registrar, "reg@example.org")
    # 1 December 2026 to 31 May 2027: 182 of the year's 365 days.
    asked = await exemptions.request(person.account.id, exemption())
    year = (await progress.progress(person.account.id, CALENDAR))[0]
    assert year.rules[0].summary == "0 / 30 hours"  # asked, not granted: no change
    await exemptions.decide(asked.id, grant=True, reason="", by_user_id=registrar.account.id)
    year = (await progress.progress(person.account.id, CALENDAR))[0]
    assert (year.exempt_days, year.days) == (182, 365)
    # 30 h x 183/365 = 15.04 h, up to the next quarter: 15.25; counts round up too.
    assert [rule.summary for rule in year.rules] == [
        "0 / 15.25 hours",
        "0 / 5.25 hours",
        "0 / 2 accounts",
        "0 / 1 activities",
        "0 / 2 areas",
    ]


async def test_overlapping_exemptions_count_each_day_once_and_a_whole_year_needs_nothing(
    engine: Any,
) -> None:
    person = await practitioner_with_record()
    registrar = await user_signed_in_as(Role.registrar, "reg@example.org")
    for starts, ends in (
        (date(2026, 12, 1), date(2027, 5, 31)),
        (date(2027, 3, 1), date(2027, 11, 30)),
        (date(2025, 1, 1), date(2025, 2, 1)),  # another year's: no effect on this one
    ):
        asked = await exemptions.request(
            person.account.id, exemption(kind="long_term_sickness", starts_on=starts, ends_on=ends)
        )
        await exemptions.decide(asked.id, grant=True, reason="", by_user_id=registrar.account.id)
    year = (await progress.progress(person.account.id, CALENDAR))[0]
    assert year.exempt_days == 365
    assert year.met
    with clock.frozen_at(IN_THE_WINDOW):
        assert (await _renewal(person)).can_renew


async def test_a_refused_exemption_changes_nothing_and_a_decision_is_made_once(
    engine: Any,
) -> None:
    person = await practitioner_with_record()
    registrar = await user_signed_in_as(Role.registrar, "reg@example.org")
    asked = await exemptions.request(
        person.account.id, exemption(kind="other", reason="Caring for a relative")
    )
    with pytest.raises(InvalidInput, match="Say why the exemption is refused"):
        await exemptions.decide(asked.id, grant=False, reason=" ", by_user_id=registrar.account.id)
    refused = await exemptions.decide(
        asked.id, grant=False, reason="Not away from practice", by_user_id=registrar.account.id
    )
    assert refused.state is ExemptionState.refused
    with pytest.raises(Conflict, match="already been refused"):
        await exemptions.decide(asked.id, grant=True, reason="", by_user_id=registrar.account.id)
    year = (await progress.progress(person.account.id, CALENDAR))[0]
    assert year.exempt_days == 0
    logged = await audit_search(target_type="cpd_exemption")
    assert [entry.action for entry in logged.entries][:2] == [
        "cpd.exemption_refused",
        "cpd.exemption_requested",
    ]


async def _signed_in(client: httpx.AsyncClient, person: SignedIn) -> dict[str, str]:
    client.cookies.clear()
    client.cookies.update(person.cookies())
    return HTML | await csrf_headers(client)


async def test_the_renewal_page_lists_what_is_missing_with_a_link_to_log_it(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    with clock.frozen_at(IN_THE_WINDOW):
        person = await sign_in(person.account)  # a session of the day
        headers = await _signed_in(client, person)
        page = await client.get("/your-registration/renew", headers=headers)
        assert page.status_code == 200
        assert "You cannot renew yet" in page.text
        assert "Total hours: 0 / 30 hours, 30 more hours" in page.text
        assert 'href="/cpd/activities/new"' in page.text
        overview = await client.get("/your-registration", headers=headers)
        assert "Practice areas covered: 0 / 3 areas, 3 more areas" in overview.text
        tried = await client.post(
            "/your-registration/renew",
            data={"character_declaration": "no", "health_declaration": "no", "action": "confirm"},
            headers=headers,
        )
        assert tried.status_code == 409
        assert "until your CPD for the year to 30 November 2027" in tried.text


async def test_a_registrar_grants_a_request_on_its_page_and_the_api_refuses_another(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    headers = await _signed_in(client, person)
    asked = await client.post(
        "/cpd/exemptions/new",
        data={
            "kind": "parental_leave",
            "starts_on-day": "1",
            "starts_on-month": "12",
            "starts_on-year": "2026",
            "ends_on-day": "30",
            "ends_on-month": "11",
            "ends_on-year": "2027",
        },
        headers=headers,
    )
    assert asked.status_code == 303
    second = await client.post(
        "/api/v1/me/cpd/exemptions",
        json={
            "kind": "other",
            "reason": "Travel",
            "starts_on": "2027-01-01",
            "ends_on": "2027-01-31",
        },
        headers=person.bearer(),
    )
    assert second.status_code == 201, second.text
    listed = await client.get("/cpd/exemptions", headers=headers)
    assert "Waiting for a registrar" in listed.text

    registrar = await user_signed_in_as(Role.registrar, "reg@example.org")
    registrar_headers = await _signed_in(client, registrar)
    queue = await client.get("/registrar/cpd/exemptions", headers=registrar_headers)
    assert "Parental leave" in queue.text
    first_id = min(each.id for each in await exemptions.list_all())
    granted = await client.post(
        f"/registrar/cpd/exemptions/{first_id}/grant",
        data={"reason": ""},
        headers=registrar_headers,
    )
    assert granted.status_code == 303
    shown = await client.get(granted.headers["location"], headers=registrar_headers)
    assert "Exemption granted" in shown.text
    refused = await client.post(
        f"/api/v1/cpd/exemptions/{second.json()['id']}/refuse",
        json={"reason": "A holiday is not an exemption"},
        headers=registrar.bearer(),
    )
    assert refused.json()["state"] == "refused"
    again = await client.post(
        f"/api/v1/cpd/exemptions/{first_id}/refuse",
        json={"reason": "Changed my mind"},
        headers=registrar.bearer(),
    )
    assert again.status_code == 409
    # The practitioner cannot decide their own request.
    own = await client.post(
        f"/api/v1/cpd/exemptions/{first_id}/grant", json={}, headers=person.bearer()
    )
    assert own.status_code == 403
    with clock.frozen_at(IN_THE_WINDOW):
        person = await sign_in(person.account)
        client.cookies.clear()
        progress_now = await client.get(
            "/api/v1/me/cpd/progress", params={"year": 2027}, headers=person.bearer()
        )
        assert progress_now.json()[0]["exempt_days"] == 365
        assert (await _renewal(person)).can_renew


async def test_after_renewing_the_activity_pages_ask_why_a_declared_year_changes(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    await meet_the_requirement(person)
    logged = (await activities.list_for(person.account.id, CALENDAR))[0]
    with clock.frozen_at(IN_THE_WINDOW):
        await _renew(person)
        person = await sign_in(person.account)
        headers = await _signed_in(client, person)
        edit = await client.get(f"/cpd/activities/{logged.id}/edit", headers=headers)
        assert "Why are you changing a year you have declared?" in edit.text
        fields = {
            "title": "Renamed",
            "done_on-day": str(logged.done_on.day),
            "done_on-month": str(logged.done_on.month),
            "done_on-year": str(logged.done_on.year),
            "hours": "10",
            "activity_type": "formal_course",
            "participatory": "no",
            "practice_areas": ["victims"],
            "peer_reflection": "no",
        }
        refused = await client.post(
            f"/cpd/activities/{logged.id}/edit", data=fields, headers=headers
        )
        assert refused.status_code == 422
        assert "say why you are changing it now" in refused.text
        assert 'href="#change_reason"' in refused.text
        saved = await client.post(
            f"/cpd/activities/{logged.id}/edit",
            data={**fields, "change_reason": "Wrong title"},
            headers=headers,
        )
        assert saved.status_code == 303
        removing = await client.post(
            f"/cpd/activities/{logged.id}/delete", data={}, headers=headers
        )
        assert removing.status_code == 422
        assert "say why you are changing it now" in removing.text
    assert (await activities.get(person.account.id, logged.id, CALENDAR)).title == "Renamed"


async def test_a_subject_access_export_holds_the_exemptions(engine: Any, tmp_path: Any) -> None:
    from registry.core.subject_access import PersonKeys
    from registry.cpd.subject_access import export
    from registry.register.subject_access import PRACTITIONER

    person = await practitioner_with_record()
    await exemptions.request(person.account.id, exemption())
    owner = await activities.owner_of(person.account.id)
    held = await export(
        PersonKeys({PRACTITIONER: frozenset({str(owner.practitioner_id)})}), tmp_path
    )
    assert held.data["exemptions"] == [
        {
            "kind": "parental_leave",
            "reason": "",
            "starts_on": "2026-12-01",
            "ends_on": "2027-05-31",
            "state": "requested",
            "decision_reason": "",
        }
    ]
    assert held.data["audits"] == []
