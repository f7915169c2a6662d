"""Organisations: requested and decided once with a reason, or made by staff; administrators
invite colleagues; each step audited and emailed; nobody sees another organisation's anything."""

from __future__ import annotations

import json

import httpx
import pytest

from registry.accounts import users
from registry.accounts.roles import Role
from registry.audit.tables import AuditEntry
from registry.employers import organisations
from registry.employers.tables import Member, Organisation, OrganisationStatus
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied, TooManyRequests
from registry.notifications.tables import OutboxMessage
from tests.accounts.helpers import sign_in
from tests.employers.helpers import employer, registrar


async def _emails(template: str) -> list[dict[str, object]]:
    rows = await OutboxMessage.select(OutboxMessage.recipient, OutboxMessage.body).where(
        OutboxMessage.template == template
    )
    return [{"to": row["recipient"], **json.loads(row["body"])} for row in rows]


async def _actions() -> list[str]:
    rows = await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)
    return [row["action"] for row in rows if row["action"].startswith("employers.")]


def _request() -> organisations.Contact:
    return organisations.check_contact(
        "  Western   Trust ", "Wendy West", "Wendy@West.example.org", "Forty officers"
    )


async def test_a_request_approved_invites_its_contact(engine: object) -> None:
    staff = await registrar()
    asked = await organisations.request_organisation(_request(), "10.0.0.1")
    assert asked.status is OrganisationStatus.requested
    assert asked.name == "Western Trust"
    assert asked.contact_email == "wendy@west.example.org"
    assert [e["to"] for e in await _emails("employer_request_received")] == [asked.contact_email]
    decided = await organisations.decide(
        asked.id, approve=True, reason="A known trust", by_user_id=staff.id
    )
    assert decided.status is OrganisationStatus.approved
    assert decided.decision_reason == "A known trust"
    account = await users.find_account_by_email("wendy@west.example.org")
    assert account is not None
    assert account.roles == frozenset({Role.employer})
    assert not account.has_password  # invited: chooses one through the link
    assert [e["to"] for e in await _emails("invitation")] == [account.email]
    [decision] = await _emails("employer_request_decided")
    assert decision["approved"] is True
    assert decision["reason"] == "A known trust"
    membership = await organisations.membership_of(account.id)
    assert membership is not None
    assert membership.is_admin
    assert await _actions() == [
        "employers.organisation_requested",
        "employers.organisation_approved",
        "employers.member_added",
    ]


async def test_a_refusal_needs_a_reason_and_is_final(engine: object) -> None:
    staff = await registrar()
    asked = await organisations.request_organisation(_request(), "10.0.0.1")
    with pytest.raises(InvalidInput):
        await organisations.decide(asked.id, approve=False, reason="  ", by_user_id=staff.id)
    refused = await organisations.decide(
        asked.id, approve=False, reason="Not an employer of practitioners", by_user_id=staff.id
    )
    assert refused.status is OrganisationStatus.refused
    [decision] = await _emails("employer_request_decided")
    assert decision["approved"] is False
    assert decision["reason"] == "Not an employer of practitioners"
    with pytest.raises(Conflict):
        await organisations.decide(asked.id, approve=True, reason="Changed", by_user_id=staff.id)
    assert await Member.count() == 0
    assert await users.find_account_by_email("wendy@west.example.org") is None
    with pytest.raises(NotFound):
        await organisations.decide(987654, approve=True, reason="x", by_user_id=staff.id)


async def test_requests_are_limited_per_address(engine: object) -> None:
    for _ in range(organisations.REQUESTS_PER_ADDRESS):
        await organisations.request_organisation(_request(), "10.0.0.9")
    with pytest.raises(TooManyRequests):
        await organisations.request_organisation(_request(), "10.0.0.9")
    await organisations.request_organisation(_request(), "10.0.0.10")
    assert await Organisation.count() == organisations.REQUESTS_PER_ADDRESS + 1


@pytest.mark.parametrize(
    ("name", "contact", "email", "about", "field"),
    [
        ("", "A B", "a@b.example.org", "", "name"),
        ("x" * 161, "A B", "a@b.example.org", "", "name"),
        ("Trust\x00", "A B", "a@b.example.org", "", "name"),
        ("Trust\u202e", "A B", "a@b.example.org", "", "name"),
        ("Trust", "", "a@b.example.org", "", "contact_name"),
        ("Trust", "A B", "not an email", "", "contact_email"),
        ("Trust", "A B", "a@b.example.org", "x" * 2001, "about"),
    ],
)
def test_bad_answers_name_their_field(
    name: str, contact: str, email: str, about: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        organisations.check_contact(name, contact, email, about)
    assert refused.value.field == field


async def test_staff_make_an_approved_organisation_for_an_existing_account(
    engine: object,
) -> None:
    staff = await registrar()
    existing = await users.create_user("pat@east.example.org", "Pat East", [Role.practitioner])
    made = await organisations.create_organisation(
        organisations.check_contact("East Trust", "Pat East", "pat@east.example.org"),
        by_user_id=staff.id,
    )
    assert made.status is OrganisationStatus.approved
    account = await users.get_account(existing.id)
    assert account.roles == frozenset({Role.practitioner, Role.employer})
    assert [e["to"] for e in await _emails("employer_member_added")] == [account.email]
    with pytest.raises(Conflict):  # one organisation each
        await organisations.create_organisation(
            organisations.check_contact("East Again", "Pat East", "pat@east.example.org"),
            by_user_id=staff.id,
        )


async def test_administrators_invite_colleagues(engine: object) -> None:
    north = await employer()
    added = await organisations.invite_colleague(
        north.admin.account.id, "Colin@north.example.org", "Colin North", admin=False
    )
    assert added.email == "colin@north.example.org"
    colleague = await users.get_account(added.user_id)
    with pytest.raises(PermissionDenied):  # not an administrator
        await organisations.invite_colleague(
            colleague.id, "dora@north.example.org", "Dora North", admin=False
        )
    await users.create_user("sam@elsewhere.example.org", "Sam Else", [Role.practitioner])
    with pytest.raises(Conflict):  # an invitation does not take over an existing account
        await organisations.invite_colleague(
            north.admin.account.id, "sam@elsewhere.example.org", "Sam Else", admin=False
        )
    names = [m.display_name for m in await organisations.members(north.organisation.id)]
    assert names == ["Admin North", "Colin North"]


async def test_an_employer_sees_only_their_own_organisation(client: httpx.AsyncClient) -> None:
    north = await employer()
    south = await employer("Southern Trust", "south")
    mine = await client.get("/api/v1/organisation", headers=north.admin.bearer())
    assert mine.status_code == 200
    assert mine.json()["organisation"]["name"] == "Northern Probation Trust"
    assert [m["email"] for m in mine.json()["members"]] == ["admin@north.example.org"]
    assert south.organisation.name not in mine.text
    outsider = await users.create_user("lone@example.org", "Lone Employer", [Role.employer])
    signed_in = await sign_in(outsider)
    alone = await client.get("/api/v1/organisation", headers=signed_in.bearer())
    assert alone.status_code == 404


async def test_registrars_decide_through_the_api(client: httpx.AsyncClient) -> None:
    staff = await sign_in(await registrar())
    asked = await organisations.request_organisation(_request(), "10.0.0.1")
    listed = await client.get("/api/v1/employers/organisations", headers=staff.bearer())
    assert [o["id"] for o in listed.json()] == [asked.id]
    empty = await client.post(
        f"/api/v1/employers/organisations/{asked.id}/approve",
        json={"reason": ""},
        headers=staff.bearer(),
    )
    assert empty.status_code == 422
    approved = await client.post(
        f"/api/v1/employers/organisations/{asked.id}/approve",
        json={"reason": "Known"},
        headers=staff.bearer(),
    )
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    again = await client.post(
        f"/api/v1/employers/organisations/{asked.id}/refuse",
        json={"reason": "No"},
        headers=staff.bearer(),
    )
    assert again.status_code == 409
    missing = await client.get("/api/v1/employers/organisations/987654", headers=staff.bearer())
    assert missing.status_code == 404
