"""The CPD audit over HTTP: a chosen practitioner submits their profile, an assessor decides,
a second moderates, a registrar decides a case referred; the figures page and CSV; and the
``registry cpd sample`` command."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from registry.accounts.roles import Role
from registry.config import Settings
from registry.cpd import sampling
from registry.cpd.tables import AuditCase, Standard
from tests.accounts.helpers import SignedIn, user_signed_in_as
from tests.cpd.helpers import CALENDAR, log
from tests.cpd.test_audit import YEAR, renewed_for_2026
from tests.support import registry_command


async def _chosen_practitioner() -> tuple[SignedIn, int]:
    from registry.accounts import users
    from tests.accounts.helpers import sign_in

    await renewed_for_2026("Chosen", email="chosen@example.org")
    await sampling.draw_sample(YEAR, CALENDAR, rate=Decimal(1), seed="http")
    account = await users.find_account_by_email("chosen@example.org")
    assert account is not None
    person = await sign_in(account)
    case = await AuditCase.select(AuditCase.id).first()
    assert case is not None
    return person, int(case["id"])


async def test_the_audit_from_profile_to_registrar_over_the_api(client: httpx.AsyncClient) -> None:
    person, case_id = await _chosen_practitioner()
    first = await user_signed_in_as(Role.cpd_assessor, "first@example.org")
    second = await user_signed_in_as(Role.cpd_assessor, "second@example.org")
    registrar = await user_signed_in_as(Role.registrar, "reg@example.org")
    mine = await client.get("/api/v1/me/cpd/audit", headers=person.bearer())
    assert [(case["id"], case["state"]) for case in mine.json()] == [(case_id, "awaiting_profile")]
    logged = await log(person, done_on=date(2026, 5, 5), change_reason="Logged late")
    codes = [row["code"] for row in await Standard.select(Standard.code)]
    profile = {
        "summary_of_practice": "Court work and supervision.",
        "activity_ids": [logged.id],
        "statements": dict.fromkeys(codes, "Shown by the course."),
    }
    # Not the practitioner's to submit for someone else; and staff cannot submit at all.
    stranger = await user_signed_in_as(Role.practitioner, "stranger@example.org")
    from tests.register.helpers import put_on_register

    await put_on_register("Stran", "Ger", account_id=stranger.account.id)
    refused = await client.post(
        f"/api/v1/me/cpd/audit/{case_id}/profile", json=profile, headers=stranger.bearer()
    )
    assert refused.status_code == 404
    assert (
        await client.post(
            f"/api/v1/me/cpd/audit/{case_id}/profile", json=profile, headers=first.bearer()
        )
    ).status_code == 403
    sent = await client.post(
        f"/api/v1/me/cpd/audit/{case_id}/profile", json=profile, headers=person.bearer()
    )
    assert sent.json()["state"] == "submitted", sent.text
    twice = await client.post(
        f"/api/v1/me/cpd/audit/{case_id}/profile", json=profile, headers=person.bearer()
    )
    assert twice.status_code == 409
    assert "already been submitted" in twice.text

    asked = await client.post(
        f"/api/v1/cpd/audit/cases/{case_id}/assessment",
        json={"outcome": "request_information", "reasons": "Which course?"},
        headers=first.bearer(),
    )
    assert asked.json()["state"] == "more_information"
    answered = await client.post(
        f"/api/v1/me/cpd/audit/{case_id}/information",
        json={"information": "The regional risk course."},
        headers=person.bearer(),
    )
    assert answered.json()["state"] == "submitted"
    not_met = await client.post(
        f"/api/v1/cpd/audit/cases/{case_id}/assessment",
        json={"outcome": "does_not_meet", "reasons": "No reflection on practice"},
        headers=first.bearer(),
    )
    assert not_met.json()["state"] == "not_met"
    own = await client.post(
        f"/api/v1/cpd/audit/cases/{case_id}/moderation",
        json={"agrees": True, "notes": "Mine"},
        headers=first.bearer(),
    )
    assert own.status_code == 403
    assert "You made this decision" in own.text
    moderated = await client.post(
        f"/api/v1/cpd/audit/cases/{case_id}/moderation",
        json={"agrees": True, "notes": "Agreed"},
        headers=second.bearer(),
    )
    assert moderated.json()["moderation_agrees"] is True
    assert (
        await client.post(
            f"/api/v1/cpd/audit/cases/{case_id}/decision",
            json={"decision": "advise", "reasons": "x"},
            headers=first.bearer(),
        )
    ).status_code == 403  # an assessor is not a registrar
    advised = await client.post(
        f"/api/v1/cpd/audit/cases/{case_id}/decision",
        json={"decision": "advise", "reasons": "Reflect on each activity next year"},
        headers=registrar.bearer(),
    )
    assert advised.json()["state"] == "advised"

    figures = await client.get("/api/v1/cpd/audit/statistics", headers=registrar.bearer())
    assert figures.json()[0] | {"outcomes": None} == {
        "registration_year": YEAR,
        "eligible": 1,
        "sampled": 1,
        "submitted": 1,
        "on_time": 1,
        "met": 0,
        "not_met": 1,
        "outcomes": None,
    }
    client.cookies.update(first.cookies())
    page = await client.get("/cpd/audit/statistics", headers={"accept": "text/html"})
    assert "Registration year 2026" in page.text
    assert 'aria-label="Did not meet them: 100% of those sampled"' in page.text
    table = await client.get("/cpd/audit/statistics/statistics.csv")
    lines = table.text.splitlines()
    assert lines[0].startswith("registration_year,eligible,sampled,submitted,on_time,met,not_met")
    assert lines[1].startswith("2026,1,1,1,1,0,1,")


async def test_the_sample_command_draws_once_and_refuses_bad_input(
    migrated: Settings, engine: Any
) -> None:
    status, output = await registry_command(
        migrated, "cpd", "sample", "--year", "2020", "--seed", "7"
    )
    assert status == 0, output
    assert "drew CPD audit sample 2020: seed 7, rate 0.025, 0 chosen of 0 eligible" in output
    status, output = await registry_command(migrated, "cpd", "sample", "--year", "2020")
    assert status == 0
    assert "already drawn, nothing changed: CPD audit sample 2020: seed 7" in output
    status, output = await registry_command(
        migrated, "cpd", "sample", "--year", "2999", with_stderr=True
    )
    assert status == 2
    assert "closes on 30 November 2999" in output
    status, output = await registry_command(
        migrated, "cpd", "sample", "--year", "2019", "--rate", "2", with_stderr=True
    )
    assert status == 2
    assert "The rate must be more than 0 and at most 1" in output
