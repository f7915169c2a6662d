"""The CPD audit on pages: the chosen practitioner's profile (form, check answers, submit once,
more information, the outcome), the assessors' queue and review with evidence, moderation never
of one's own decision, and the registrar's decisions with their emails."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import httpx

from registry.accounts.roles import Role
from registry.audit.service import search as audit_search
from registry.config import Settings
from registry.cpd import activities
from registry.cpd.tables import AuditCase, Standard
from registry.notifications.tables import OutboxMessage
from tests.accounts.helpers import SignedIn, csrf_headers, user_signed_in_as
from tests.cpd.helpers import CALENDAR, log
from tests.cpd.test_audit_http import _chosen_practitioner
from tests.register.helpers import put_on_register

HTML = {"accept": "text/html"}
PDF = b"%PDF-1.4\n% attendance\n"


def said(page: httpx.Response) -> str:
    """The page's words, tags removed and whitespace folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


async def as_(client: httpx.AsyncClient, person: SignedIn) -> dict[str, str]:
    client.cookies.clear()
    client.cookies.update(person.cookies())
    return HTML | await csrf_headers(client)


async def _codes() -> list[str]:
    return [
        row["code"] for row in await Standard.select(Standard.code).where(Standard.active.eq(True))
    ]


async def _profile_form(activity_id: int, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "summary_of_practice": "Court work and supervision.",
        "activity_ids": [str(activity_id)],
        **{f"statement_{code}": f"Shown for {code}." for code in await _codes()},
    }
    return values | changes


async def _submitted(client: httpx.AsyncClient, settings: Settings) -> tuple[SignedIn, int, int]:
    person, case_id = await _chosen_practitioner()
    logged = await log(person, done_on=date(2026, 5, 5), change_reason="Logged late")
    await activities.attach_evidence(
        person.account.id,
        logged.id,
        "certificate.pdf",
        PDF,
        settings.data_dir,
        CALENDAR,
        reason="Late",
    )
    headers = await as_(client, person)
    sent = await client.post(
        f"/cpd/audit/{case_id}/submit", data=await _profile_form(logged.id), headers=headers
    )
    assert sent.status_code == 303, sent.text
    return person, case_id, logged.id


async def test_the_chosen_practitioner_sees_what_to_submit_checks_it_and_submits_once(
    client: httpx.AsyncClient,
) -> None:
    person, case_id = await _chosen_practitioner()
    logged = await log(person, done_on=date(2026, 5, 5), change_reason="Logged late")
    await log(person, done_on=date(2027, 1, 5), title="This year's course")
    headers = await as_(client, person)
    dashboard = await client.get("/cpd", headers=headers)
    assert "Your CPD for 2026 has been chosen for audit" in said(dashboard)
    page = await client.get(f"/cpd/audit/{case_id}", headers=headers)
    assert page.status_code == 200, page.text
    assert "Submit your CPD profile by 12 April 2027" in said(page)
    form = await client.get(f"/cpd/audit/{case_id}/profile", headers=headers)
    assert "Risk assessment refresher" in form.text
    assert "This year&#39;s course" not in form.text  # only the audited year's activities
    for code in await _codes():
        assert f'name="statement_{code}"' in form.text

    blank = await client.post(f"/cpd/audit/{case_id}/profile", data={}, headers=headers)
    assert blank.status_code == 422
    assert "There is a problem" in blank.text
    assert "Enter a summary of your practice" in said(blank)
    assert 'href="#summary_of_practice"' in blank.text

    code = (await _codes())[0]
    long = await client.post(
        f"/cpd/audit/{case_id}/profile",
        data=await _profile_form(logged.id, **{f"statement_{code}": "x" * 10_001}),
        headers=headers,
    )
    assert long.status_code == 422
    assert "must be 10,000 characters or fewer" in said(long)
    assert f'href="#statement_{code}"' in long.text
    checked = await client.post(
        f"/cpd/audit/{case_id}/profile", data=await _profile_form(logged.id), headers=headers
    )
    assert checked.status_code == 200, said(checked)
    assert "Check your CPD profile before you submit it" in said(checked)
    assert "Court work and supervision." in said(checked)
    assert (await AuditCase.select(AuditCase.state).first() or {})["state"] == "awaiting_profile"
    again = await client.post(
        f"/cpd/audit/{case_id}/profile",
        data=await _profile_form(logged.id, change="yes"),
        headers=headers,
    )
    assert "Court work and supervision." in again.text
    assert "Your CPD profile" in said(again)

    sent = await client.post(
        f"/cpd/audit/{case_id}/submit", data=await _profile_form(logged.id), headers=headers
    )
    assert sent.status_code == 303
    shown = await client.get(sent.headers["location"], headers=headers)
    assert "Your CPD profile has been submitted" in said(shown)
    twice = await client.post(
        f"/cpd/audit/{case_id}/submit", data=await _profile_form(logged.id), headers=headers
    )
    assert twice.status_code == 409
    assert "Your CPD profile has already been submitted" in said(twice)
    assert "There is a problem" in twice.text
    reopened = await client.get(f"/cpd/audit/{case_id}/profile", headers=headers)
    assert reopened.status_code == 409
    assert "Your CPD profile has already been submitted" in said(reopened)


async def test_another_persons_audit_is_not_found(client: httpx.AsyncClient) -> None:
    _, case_id = await _chosen_practitioner()
    stranger = await user_signed_in_as(Role.practitioner, "stranger@example.org")
    await put_on_register("Stran", "Ger", account_id=stranger.account.id)
    headers = await as_(client, stranger)
    for path in ("", "/profile"):
        answer = await client.get(f"/cpd/audit/{case_id}{path}", headers=headers)
        assert answer.status_code == 404, path
    for path in ("/profile", "/submit", "/information"):
        answer = await client.post(
            f"/cpd/audit/{case_id}{path}", data={"information": "x"}, headers=headers
        )
        assert answer.status_code == 404, path
    assert "There is no such CPD audit case" not in (await client.get("/cpd/audit")).text


async def test_assessors_review_ask_for_more_decide_and_moderate_never_their_own(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    person, case_id, _ = await _submitted(client, settings)
    first = await user_signed_in_as(Role.cpd_assessor, "first@example.org")
    second = await user_signed_in_as(Role.cpd_assessor, "second@example.org")

    headers = await as_(client, first)
    listed = await client.get("/cpd/audit/cases", params={"state": "submitted"}, headers=headers)
    assert f'href="/cpd/audit/cases/{case_id}"' in listed.text
    none_overdue = await client.get("/cpd/audit/cases", params={"overdue": "true"}, headers=headers)
    assert f'href="/cpd/audit/cases/{case_id}"' not in none_overdue.text
    wrong = await client.get("/cpd/audit/cases", params={"state": "splendid"}, headers=headers)
    assert wrong.status_code == 422
    assert "Status must be" in said(wrong)
    review = await client.get(f"/cpd/audit/cases/{case_id}", headers=headers)
    assert "Court work and supervision." in said(review)
    evidence = re.findall(r'href="(/cpd/evidence/\d+)"', review.text)
    assert len(evidence) == 1
    assert (await client.get(evidence[0], headers=headers)).content == PDF
    viewed = await audit_search(action="cpd.evidence_viewed")
    assert viewed.total >= 1

    blank = await client.post(
        f"/cpd/audit/cases/{case_id}/assessment", data={"outcome": "meets"}, headers=headers
    )
    assert blank.status_code == 422
    assert "Enter your reasons" in said(blank) or "Enter reasons" in said(blank)
    asked = await client.post(
        f"/cpd/audit/cases/{case_id}/assessment",
        data={"outcome": "request_information", "reasons": "Which course was it?"},
        headers=headers,
    )
    assert asked.status_code == 303, said(asked)

    mine = await as_(client, person)
    page = await client.get(f"/cpd/audit/{case_id}", headers=mine)
    assert "Which course was it?" in said(page)
    answered = await client.post(
        f"/cpd/audit/{case_id}/information",
        data={"information": "The regional risk course."},
        headers=mine,
    )
    assert answered.status_code == 303, said(answered)

    headers = await as_(client, first)
    met = await client.post(
        f"/cpd/audit/cases/{case_id}/assessment",
        data={"outcome": "meets", "reasons": "A clear account of each standard."},
        headers=headers,
    )
    assert met.status_code == 303
    # The decision puts the case in the moderated sample or not (a quarter, by the sample's seed
    # and the case's id, which differ from run to run): this one is put in it.
    await AuditCase.update({AuditCase.for_moderation: True}).where(AuditCase.id == case_id)
    queue = await client.get("/cpd/audit/moderation", headers=headers)
    assert "Your decisions, for another assessor" in said(queue)
    own = await client.post(
        f"/cpd/audit/cases/{case_id}/moderation",
        data={"agrees": "yes", "notes": "Mine"},
        headers=headers,
    )
    assert own.status_code == 403
    assert "You made this decision, so a second assessor must moderate it" in said(own)

    headers = await as_(client, second)
    queue = await client.get("/cpd/audit/moderation", headers=headers)
    assert f'href="/cpd/audit/cases/{case_id}"' in queue.text
    moderated = await client.post(
        f"/cpd/audit/cases/{case_id}/moderation",
        data={"agrees": "yes", "notes": "Agreed"},
        headers=headers,
    )
    assert moderated.status_code == 303
    shown = await client.get(moderated.headers["location"], headers=headers)
    assert "A second assessor agreed" in said(shown)

    outcome = await client.get(f"/cpd/audit/{case_id}", headers=await as_(client, person))
    assert "meets the standards" in said(outcome)


async def test_the_registrar_decides_a_case_not_met_and_the_practitioner_is_emailed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    _, case_id, _ = await _submitted(client, settings)
    assessor = await user_signed_in_as(Role.cpd_assessor, "first@example.org")
    registrar = await user_signed_in_as(Role.registrar, "reg@example.org")
    headers = await as_(client, assessor)
    await client.post(
        f"/cpd/audit/cases/{case_id}/assessment",
        data={"outcome": "does_not_meet", "reasons": "No reflection on practice."},
        headers=headers,
    )
    headers = await as_(client, registrar)
    queue = await client.get("/registrar/cpd/audit", headers=headers)
    assert f'href="/cpd/audit/cases/{case_id}"' in queue.text
    review = await client.get(f"/cpd/audit/cases/{case_id}", headers=headers)
    assert "Registrar&#39;s decision" in review.text or "Registrar's decision" in said(review)
    assert "/cpd/evidence/" not in review.text  # evidence is for CPD assessors
    past = await client.post(
        f"/cpd/audit/cases/{case_id}/decision",
        data={
            "decision": "extend",
            "reasons": "Time to reflect",
            "new_due_on-day": "1",
            "new_due_on-month": "1",
            "new_due_on-year": "2020",
        },
        headers=headers,
    )
    assert past.status_code == 422
    assert "Give a new date in the future" in said(past)
    assert 'href="#new_due_on-day"' in past.text
    extended = await client.post(
        f"/cpd/audit/cases/{case_id}/decision",
        data={
            "decision": "extend",
            "reasons": "Time to reflect",
            "new_due_on-day": "30",
            "new_due_on-month": "6",
            "new_due_on-year": "2027",
        },
        headers=headers,
    )
    assert extended.status_code == 303, said(extended)
    case = await AuditCase.select(AuditCase.state, AuditCase.due_on).first()
    assert case is not None
    assert (case["state"], str(case["due_on"])) == ("awaiting_profile", "2027-06-30")
    emails = await OutboxMessage.select(OutboxMessage.template, OutboxMessage.subject).where(
        OutboxMessage.template == "cpd_audit_decision"
    )
    assert [each["subject"] for each in emails] == ["More time for your CPD profile"]
    assessor_refused = await client.post(
        f"/cpd/audit/cases/{case_id}/decision",
        data={"decision": "lapse", "reasons": "x"},
        headers=await as_(client, assessor),
    )
    assert assessor_refused.status_code == 403
