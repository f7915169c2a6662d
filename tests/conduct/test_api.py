"""Fitness to practise through the API: concerns from anyone (limited, with a honeypot), the staff
workflow with 409s that list the allowed moves, the practitioner's own cases, and what is
published, changing on the next request after a decision."""

from __future__ import annotations

import json
from typing import Any

import httpx

from registry.accounts import users
from registry.accounts.roles import Role
from registry.conduct import concerns, workflow
from registry.conduct.tables import Case, Concern, ConcernAttempt, Stage
from registry.notifications.tables import OutboxMessage
from tests.accounts.helpers import SignedIn, sign_in
from tests.conduct.helpers import case_at, people
from tests.register.helpers import put_on_register

PROBLEM = "application/problem+json"


async def _signed_in(role: Role, email: str) -> SignedIn:
    # Invited accounts: no argon2 in tests that do not test passwords.
    return await sign_in(await users.create_user(email, f"Test {role.value}", [role]))


def _concern(number: str = "", **changes: Any) -> dict[str, Any]:
    return {
        "about_number": number,
        "about_name": "" if number else "Sam Someone",
        "about_workplace": "" if number else "Leeds probation office",
        "what_happened": "They shouted at me in the waiting room.",
        "categories": ["professional_boundaries"],
        "relationship": "public",
        "raiser_name": "Rae Iser",
        "raiser_email": "rae@example.org",
        **changes,
    }


async def test_anyone_raises_a_concern_and_gets_its_reference(
    client: httpx.AsyncClient, engine: Any
) -> None:
    answer = await client.post("/api/v1/concerns", json=_concern())
    assert answer.status_code == 201, answer.text
    reference = answer.json()["reference"]
    assert reference.startswith("FTP-")
    stored = await Concern.select().where(Concern.reference == reference).first()
    assert stored is not None
    case = await Case.select().where(Case.id == stored["case"]).first()
    assert case is not None
    assert case["needs_identifying"]
    [email] = await OutboxMessage.select().where(
        OutboxMessage.template == "conduct_concern_received"
    )
    assert json.loads(email["body"])["reference"] == reference


async def test_a_robot_filling_the_honeypot_is_answered_as_ever_and_nothing_is_kept(
    client: httpx.AsyncClient, engine: Any
) -> None:
    answer = await client.post("/api/v1/concerns", json=_concern(website="http://spam"))
    assert answer.status_code == 201
    assert answer.json()["reference"].startswith("FTP-")
    assert await Concern.count() == 0
    assert await ConcernAttempt.count() == 0


async def test_one_address_sending_too_many_concerns_is_told_to_wait(
    client: httpx.AsyncClient, engine: Any
) -> None:
    for _ in range(concerns.CONCERNS_PER_ADDRESS):
        assert (await client.post("/api/v1/concerns", json=_concern())).status_code == 201
    refused = await client.post("/api/v1/concerns", json=_concern())
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert "Too many concerns" in refused.json()["detail"]
    assert refused.headers["retry-after"] == "3600"
    assert await Concern.count() == concerns.CONCERNS_PER_ADDRESS


async def test_a_move_not_allowed_answers_409_with_the_moves_that_are(
    client: httpx.AsyncClient, engine: Any
) -> None:
    caseworker = await _signed_in(Role.caseworker, "cw-api@example.org")
    raised = await client.post("/api/v1/concerns", json=_concern())
    [case] = (await client.get("/api/v1/cases", headers=caseworker.bearer())).json()["cases"]
    refused = await client.post(
        f"/api/v1/cases/{case['id']}/moves",
        json={"move": "open_investigation", "version": case["version"], "reason": "Go"},
        headers=caseworker.bearer(),
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["allowed_moves"] == ["start_triage"]
    moved = await client.post(
        f"/api/v1/cases/{case['id']}/moves",
        json={"move": "start_triage", "version": case["version"]},
        headers=caseworker.bearer(),
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["stage"] == "triage"
    assert [event["event"] for event in body["timeline"]] == ["concern_received", "start_triage"]
    assert body["concerns"][0]["raiser_email"] == "rae@example.org"
    assert body["concerns"][0]["reference"] == raised.json()["reference"]
    stale = await client.post(
        f"/api/v1/cases/{case['id']}/moves",
        json={"move": "close_no_further_action", "version": case["version"], "reason": "No"},
        headers=caseworker.bearer(),
    )
    assert stale.status_code == 409
    assert "changed since you opened it" in stale.json()["detail"]


async def test_a_move_by_a_role_not_allowed_is_forbidden(
    client: httpx.AsyncClient, engine: Any
) -> None:
    examiner = await _signed_in(Role.case_examiner, "ce-api@example.org")
    await client.post("/api/v1/concerns", json=_concern())
    [case] = (await client.get("/api/v1/cases", headers=examiner.bearer())).json()["cases"]
    refused = await client.post(
        f"/api/v1/cases/{case['id']}/moves",
        json={"move": "start_triage", "version": case["version"]},
        headers=examiner.bearer(),
    )
    assert refused.status_code == 403
    assert "caseworker only" in refused.json()["detail"]


async def test_the_practitioner_accepts_and_the_public_entry_changes_on_the_next_request(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.accepted_outcome, who)
    practitioner = await sign_in(await users.get_account(who.practitioner.user_id or 0))
    [mine] = (await client.get("/api/v1/me/cases", headers=practitioner.bearer())).json()
    assert mine["id"] == case_id
    assert mine["due_what"] == "The practitioner's answer to the proposed outcome"
    assert mine["allowed_moves"] == ["accept_outcome", "reject_outcome"]
    assert mine["concerns"][0]["raiser_name"] is None
    # the steps they may see, without who made them or why; triage stays with staff
    assert [event["event"] for event in mine["timeline"]] == [
        "open_investigation",
        "response_received",
        "refer_to_case_examiners",
        "propose_accepted_outcome",
    ]
    assert all(event["actor"] == event["reason"] == "" for event in mine["timeline"])
    accepted = await client.post(
        f"/api/v1/me/cases/{case_id}/outcome",
        json={"decision": "accept", "version": mine["version"]},
        headers=practitioner.bearer(),
    )
    assert accepted.status_code == 200, accepted.text
    number = who.entry.registration_number
    entry = (await client.get(f"/api/v1/register/{number}")).json()
    assert entry["status"] == "registered_with_conditions"
    [restriction] = entry["restrictions"]
    published = (await client.get(f"/api/v1/register/{number}/decisions")).json()
    [decision] = published["decisions"]
    assert decision["conditions"] == "Work under supervision"
    assert restriction["decision_url"] == f"/register/{number}/decisions/{decision['id']}"
    one = await client.get("/api/v1" + restriction["decision_url"])
    assert one.status_code == 200
    assert one.json()["summary"] == "Conditions for six months"


async def test_a_practitioner_asking_for_anothers_case_is_told_it_is_not_found(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    other = await _signed_in(Role.practitioner, "other-api@example.org")
    await put_on_register("Other", "Person", account_id=other.account.id)
    for method, path, body in (
        ("GET", f"/api/v1/me/cases/{case_id}", None),
        ("POST", f"/api/v1/me/cases/{case_id}/response", {"response": "Not me"}),
        ("POST", f"/api/v1/me/cases/{case_id}/outcome", {"decision": "accept", "version": 1}),
    ):
        answer = await client.request(method, path, json=body, headers=other.bearer())
        assert answer.status_code == 404, (path, answer.text)
    assert (await client.get("/api/v1/me/cases", headers=other.bearer())).json() == []


async def test_the_practitioner_responds_to_the_notice(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    practitioner = await sign_in(await users.get_account(who.practitioner.user_id or 0))
    answer = await client.post(
        f"/api/v1/me/cases/{case_id}/response",
        json={"response": "I was not there that day."},
        headers=practitioner.bearer(),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["response"] == "I was not there that day."


async def test_hearings_in_the_next_eight_weeks_are_listed(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    await case_at(Stage.hearing, who)
    [hearing] = (await client.get("/api/v1/hearings")).json()
    assert hearing["registration_number"] == who.entry.registration_number
    assert hearing["private"] is False


async def test_staff_filter_the_case_list(client: httpx.AsyncClient, engine: Any) -> None:
    who = await people()
    await case_at(Stage.investigation, who)
    await client.post("/api/v1/concerns", json=_concern())
    caseworker = await _signed_in(Role.caseworker, "cw-list@example.org")
    headers = caseworker.bearer()
    everything = (await client.get("/api/v1/cases", headers=headers)).json()
    assert everything["total"] == 2
    investigating = (
        await client.get("/api/v1/cases", params={"stage": "investigation"}, headers=headers)
    ).json()
    assert [case["stage"] for case in investigating["cases"]] == ["investigation"]
    overdue = (
        await client.get("/api/v1/cases", params={"overdue": "true"}, headers=headers)
    ).json()
    assert overdue["total"] == 0
    mine = (
        await client.get(
            "/api/v1/cases", params={"caseworker": caseworker.account.id}, headers=headers
        )
    ).json()
    assert mine["total"] == 0


async def test_staff_list_the_cases_nobody_is_assigned_to(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    taken = await case_at(Stage.investigation, who)
    await client.post("/api/v1/concerns", json=_concern())
    caseworker = await _signed_in(Role.caseworker, "cw-list@example.org")
    headers = caseworker.bearer()
    version = (await workflow.get_case(taken)).version
    assigned = await client.post(
        f"/api/v1/cases/{taken}/assignment",
        json={"caseworker_id": caseworker.account.id, "version": version},
        headers=headers,
    )
    assert assigned.status_code == 200, assigned.text

    async def listed(**params: Any) -> httpx.Response:
        return await client.get("/api/v1/cases", params=params, headers=headers)

    nobodys = (await listed(unassigned="true")).json()
    assert nobodys["total"] == 1
    assert [case["id"] for case in nobodys["cases"]] != [taken]
    assert (await listed(unassigned="false")).json()["total"] == 2
    theirs = (await listed(caseworker=caseworker.account.id)).json()
    assert [case["id"] for case in theirs["cases"]] == [taken]
    both = await listed(caseworker=caseworker.account.id, unassigned="true")
    assert both.status_code == 422
    assert both.json()["detail"] == (
        "Choose a caseworker or the cases nobody is assigned to, not both"
    )
