"""The CPD API: a practitioner's own activities and progress, with their token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from registry.accounts import tokens, users
from registry.accounts.roles import Role
from registry.accounts.tables import ApiToken, User
from registry.audit.service import search as audit_search
from registry.core import clock
from registry.cpd.tables import Activity
from tests.accounts.helpers import SignedIn, user_signed_in_as
from tests.cpd.helpers import api_body as body
from tests.cpd.helpers import practitioner_with_record

ACTIVITIES = "/api/v1/me/cpd/activities"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_a_practitioner_logs_changes_and_removes_an_activity(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    made = await client.post(ACTIVITIES, json=body(), headers=person.bearer())
    assert made.status_code == 201, made.text
    activity = made.json()
    assert activity["hours"] == "2.5"
    assert activity["registration_year"] == 2027
    assert activity["reflective"] is True
    assert activity["editable"] is True
    url = f"{ACTIVITIES}/{activity['id']}"
    changed = await client.put(
        url, json=body(hours="3", title="Safeguarding"), headers=person.bearer()
    )
    assert changed.json()["hours"] == "3"
    listed = await client.get(ACTIVITIES, params={"year": 2027}, headers=person.bearer())
    assert [item["title"] for item in listed.json()] == ["Safeguarding"]
    assert (await client.delete(url, headers=person.bearer())).status_code == 204
    assert (await client.get(url, headers=person.bearer())).status_code == 404
    actions = [entry.action for entry in (await audit_search(target_type="cpd_activity")).entries]
    assert {"cpd.activity_recorded", "cpd.activity_changed", "cpd.activity_removed"} <= set(actions)


async def test_progress_as_json(client: httpx.AsyncClient) -> None:
    person = await practitioner_with_record()
    await client.post(ACTIVITIES, json=body(hours="12.5"), headers=person.bearer())
    answer = await client.get(
        "/api/v1/me/cpd/progress", params={"year": 2027}, headers=person.bearer()
    )
    assert answer.status_code == 200
    (year,) = answer.json()
    total = year["rules"][0]
    assert (total["rule"], total["summary"], total["met"], total["still_needed"]) == (
        "total_hours",
        "12.5 / 30 hours",
        False,
        "17.5",
    )
    assert year["met"] is False
    every = await client.get("/api/v1/me/cpd/progress", headers=person.bearer())
    assert every.json()[0]["registration_year"] == 2027
    assert len(every.json()) == 8  # 2020 to 2027: registered on 1 April 2020


async def test_someone_else_s_activity_is_not_found(client: httpx.AsyncClient) -> None:
    owner = await practitioner_with_record()
    other = await practitioner_with_record("other@example.org")
    made = (await client.post(ACTIVITIES, json=body(), headers=owner.bearer())).json()
    url = f"{ACTIVITIES}/{made['id']}"
    for method, payload in (("GET", None), ("PUT", body()), ("DELETE", None)):
        answer = await client.request(method, url, json=payload, headers=other.bearer())
        assert answer.status_code == 404, (method, answer.text)
        assert answer.json()["detail"] == "There is no such activity in your CPD record"
    files = {"data": ("notes.png", PNG, "image/png")}
    answer = await client.post(f"{url}/evidence", files=files, headers=other.bearer())
    assert answer.status_code == 404
    assert (await Activity.select(Activity.title).first()) == {"title": "Safeguarding update"}


async def test_evidence_is_checked_kept_once_and_served_to_the_owner(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    made = (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).json()
    url = f"{ACTIVITIES}/{made['id']}/evidence"
    added = await client.post(
        url, files={"data": ("certificate.pdf", PNG, "application/pdf")}, headers=person.bearer()
    )
    assert added.status_code == 201, added.text
    (file,) = added.json()["evidence"]
    assert (file["content_type"], file["filename"]) == ("image/png", "certificate.pdf")
    fetched = await client.get(file["url"], headers=person.bearer())
    assert fetched.content == PNG
    viewed = await audit_search(action="cpd.evidence_viewed")
    assert len(viewed.entries) == 1
    refused = await client.post(
        url,
        files={"data": ("run.pdf", b"MZ\x90\x00 an executable", "application/pdf")},
        headers=person.bearer(),
    )
    assert refused.status_code == 422
    assert "must be a PDF, PNG or JPEG" in refused.text


async def test_a_practitioner_not_on_the_register_has_no_record(client: httpx.AsyncClient) -> None:
    person = await user_signed_in_as(Role.practitioner)
    answer = await client.post(ACTIVITIES, json=body(), headers=person.bearer())
    assert answer.status_code == 409
    assert "starts when you join the register" in answer.text


BAD_INPUT = [
    ({"hours": 0}, "hours", "Hours must be more than 0"),
    ({"hours": -1}, "hours", "Hours must be more than 0"),
    ({"hours": "1.3"}, "hours", "quarter hours"),
    ({"hours": 24.25}, "hours", "Hours must be 24 or fewer"),
    ({"hours": "two"}, "hours", "Hours must be a number"),
    ({"hours": "NaN"}, "hours", "Hours must be a number"),
    ({"hours": "Infinity"}, "hours", "Hours must be a number"),
    ({"hours": True}, "hours", "Hours must be a number"),
    ({"done_on": "2027-03-16"}, "done_on", "must be today or in the past"),
    ({"done_on": "2020-03-31"}, "done_on", "on or after the day you joined the register"),
    ({"practice_areas": ["astrology"]}, "practice_areas", "astrology is not a practice area"),
    ({"practice_areas": []}, "practice_areas", "Select at least one practice area"),
    ({"standards": ["be_nice"]}, "standards", "be_nice is not a standard of CPD"),
    ({"what_learned": "x" * 10_001}, "what_learned", "10,000 characters or fewer"),
    ({"peer_role": ""}, "peer_role", "Enter the role of the peer"),
    ({"activity_type": "party"}, "activity_type", "Type of activity must be one of"),
]


@pytest.mark.parametrize(
    ("changes", "field", "says"), BAD_INPUT, ids=[f"{c}" for c, _, _ in BAD_INPUT]
)
async def test_bad_input_is_refused_by_field_and_stores_nothing(
    client: httpx.AsyncClient, changes: dict[str, Any], field: str, says: str
) -> None:
    person: SignedIn = await practitioner_with_record()
    answer = await client.post(ACTIVITIES, json=body(**changes), headers=person.bearer())
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert says in problem["detail"] or any(says in e["message"] for e in problem["errors"])
    if problem["errors"]:
        assert problem["errors"][0]["field"] == field
    assert await Activity.count() == 0


async def test_admins_make_rule_packs_through_the_api(client: httpx.AsyncClient) -> None:
    admin = await user_signed_in_as(Role.admin)
    pack = {
        "name": "2028 requirement",
        "effective_from": "2027-12-01",
        "min_total_hours": 35,
        "min_participatory_hours": "12.5",
        "min_reflective_accounts": 3,
        "min_peer_reflections": 1,
        "min_practice_areas": 3,
        "capped_type": "reading_research",
        "cap_hours": 10,
    }
    made = await client.post("/api/v1/admin/cpd/rule-packs", json=pack, headers=admin.bearer())
    assert made.status_code == 201, made.text
    assert made.json()["min_participatory_hours"] == "12.5"
    again = await client.post("/api/v1/admin/cpd/rule-packs", json=pack, headers=admin.bearer())
    assert again.status_code == 409
    listed = await client.get("/api/v1/admin/cpd/rule-packs", headers=admin.bearer())
    assert [each["name"] for each in listed.json()] == [
        "2028 requirement",
        "Default CPD requirement",
    ]


async def test_an_evidence_file_is_taken_off_and_others_cannot_reach_it(
    client: httpx.AsyncClient,
) -> None:
    owner = await practitioner_with_record()
    other = await practitioner_with_record("other@example.org")
    made = (await client.post(ACTIVITIES, json=body(), headers=owner.bearer())).json()
    added = await client.post(
        f"{ACTIVITIES}/{made['id']}/evidence",
        files={"data": ("notes.png", PNG, "image/png")},
        headers=owner.bearer(),
    )
    (file,) = added.json()["evidence"]
    assert (await client.get(file["url"], headers=other.bearer())).status_code == 404
    assert (await client.delete(file["url"], headers=other.bearer())).status_code == 404
    second = (await client.post(ACTIVITIES, json=body(), headers=owner.bearer())).json()
    elsewhere = f"{ACTIVITIES}/{second['id']}/evidence/{file['id']}"
    assert (await client.get(elsewhere, headers=owner.bearer())).status_code == 404
    assert (await client.delete(file["url"], headers=owner.bearer())).status_code == 204
    again = await client.get(f"{ACTIVITIES}/{made['id']}", headers=owner.bearer())
    assert again.json()["evidence"] == []
    assert (await client.get(file["url"], headers=owner.bearer())).status_code == 404


async def test_an_evidence_form_without_a_file_is_told_to_choose_one(
    client: httpx.AsyncClient,
) -> None:
    """Found by the API fuzzer: a multipart form holding no file part answered 500."""
    person = await practitioner_with_record()
    made = (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).json()
    answer = await client.post(
        f"{ACTIVITIES}/{made['id']}/evidence",
        data={"note": "no file here"},
        files={"other": (None, b"{}")},
        headers=person.bearer(),
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await Activity.select(Activity.title).first()) == {"title": "Safeguarding update"}


@pytest.mark.parametrize(
    "part",
    [
        b'Content-Disposition: form-data; name="pi\xe8ce"\r\n\r\nx',
        # Found by the API fuzzer: a text part (no file name) that is not UTF-8 answered 500.
        b'Content-Disposition: form-data; name="data"\r\n\r\nGIF87a\x81\x00;',
    ],
    ids=["a part named in Latin-1", "a text part that is not UTF-8"],
)
async def test_an_evidence_form_that_is_not_utf8_is_a_400_problem(
    client: httpx.AsyncClient, part: bytes
) -> None:
    person = await practitioner_with_record()
    made = (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).json()
    form = b"--edge\r\n" + part + b"\r\n--edge--\r\n"
    answer = await client.post(
        f"{ACTIVITIES}/{made['id']}/evidence",
        content=form,
        headers={**person.bearer(), "content-type": "multipart/form-data; boundary=edge"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "form" in answer.json()["detail"]
    assert (await client.get(f"{ACTIVITIES}/{made['id']}", headers=person.bearer())).json()[
        "evidence"
    ] == []


async def test_the_token_is_checked_afresh_on_every_write(client: httpx.AsyncClient) -> None:
    """Nothing about a token is remembered between requests: a change of roles, its expiry, the
    account switched off or the token revoked stops the very next write, and nothing is
    stored."""
    person = await practitioner_with_record()
    assert (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).status_code == 201

    await users.set_roles(person.account.id, [Role.employer])
    assert (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).status_code == 403
    await users.set_roles(person.account.id, [Role.practitioner])
    assert (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).status_code == 201

    await ApiToken.update({ApiToken.expires_at: clock.now()}).where(
        ApiToken.user == person.account.id
    )
    assert (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).status_code == 401
    await ApiToken.update({ApiToken.expires_at: None}).where(ApiToken.user == person.account.id)
    assert (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).status_code == 201

    # The account switched off underneath a live token (deactivating through the service also
    # revokes its tokens: tests/accounts covers that).
    await User.update({User.active: False}).where(User.id == person.account.id)
    assert (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).status_code == 401
    await User.update({User.active: True}).where(User.id == person.account.id)
    assert (await client.post(ACTIVITIES, json=body(), headers=person.bearer())).status_code == 201

    (summary,) = await tokens.list_api_tokens(person.account.id)
    await tokens.revoke_api_token(person.account.id, summary.id)
    refused = await client.post(ACTIVITIES, json=body(), headers=person.bearer())
    assert refused.status_code == 401
    assert await Activity.count() == 4


def test_answers_encoded_once_are_the_bytes_litestar_would_send() -> None:
    """The CPD API encodes its pydantic answers in one pass (api.encoded_once): the body must
    be byte for byte what Litestar's default (dump to Python, then msgspec) makes."""
    from datetime import UTC, date, datetime, timedelta, timezone
    from decimal import Decimal
    from functools import partial

    from litestar.plugins.pydantic import PydanticInitPlugin
    from litestar.serialization import default_serializer, encode_json

    from registry.cpd.api import ENCODE_ONCE
    from registry.cpd.schemas import ActivityOut, EvidenceOut, RuleProgressOut, YearProgressOut
    from registry.cpd.tables import ActivityType

    evidence = EvidenceOut(
        id=3,
        filename='notes "final" \\ ü.pdf',
        content_type="application/pdf",
        size=10,
        sha256="ab" * 32,
        url="/api/v1/me/cpd/activities/1/evidence/3",
    )
    activity = ActivityOut(
        id=1,
        title="Ünïcode — ✓ <b>\u2028 & \t",
        done_on=date(2027, 2, 1),
        registration_year=2027,
        hours=Decimal("2.50"),
        activity_type=ActivityType.e_learning,
        participatory=False,
        practice_areas=["ethics", "victims"],
        standards=[],
        what_happened="A\nB",
        what_learned="",
        practice_changed="C",
        reflective=False,
        peer_reflection=True,
        peer_role="SPO",
        evidence=[evidence],
        rule_pack=1,
        editable=True,
        created_at=datetime(2027, 2, 1, 9, 30, tzinfo=UTC),
        updated_at=datetime(2027, 2, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
    )
    rule = RuleProgressOut(
        rule="total_hours",
        label="Total hours",
        figure=Decimal("12.25"),
        target=Decimal(30),
        unit="hours",
        summary="12.25 / 30 hours",
        met=False,
        still_needed=Decimal("17.75"),
    )
    year = YearProgressOut(
        registration_year=2027,
        starts_on=date(2026, 12, 1),
        ends_on=date(2027, 11, 30),
        rule_pack=1,
        rule_pack_name="Standard",
        activities=1,
        rules=[rule],
        met=False,
        declared=False,
    )
    litestar_default = PydanticInitPlugin.encoders()
    for answer in (activity, [activity, activity], year, [year], []):
        expected = encode_json(answer, partial(default_serializer, type_encoders=litestar_default))
        once = encode_json(answer, partial(default_serializer, type_encoders=ENCODE_ONCE))
        assert once == expected
