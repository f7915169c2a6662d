"""Organisations and their members: asked for through the sign-up form and decided by a
registrar, or made by staff; members invited by the organisation's administrators.

An organisation's first administrator is the contact named when it was asked for or made: they
are invited (the accounts invitation, a link to choose a password) when it is approved. A
person belongs to one organisation at most. Nobody outside an organisation learns anything of
it: a member asking about another organisation's anything is told it is not found.

No HTTP here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from registry import text
from registry.accounts import users
from registry.accounts.roles import Role
from registry.audit import service as audit
from registry.core import clock
from registry.db import lock_row, transaction
from registry.employers.tables import Member, Organisation, OrganisationStatus
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied, TooManyRequests
from registry.notifications import service as notifications

TARGET = "employer_organisation"
NOT_FOUND = "There is no such organisation"
MAX_NAME = 160
MAX_ABOUT = 2_000
MAX_REASON = 5_000
REQUEST_WINDOW = timedelta(hours=1)
REQUESTS_PER_ADDRESS = 5  # a few mistakes corrected; not a flood of requests
ORGANISATION_PAGE = "/organisation"


@dataclass(frozen=True)
class OrganisationRecord:
    id: int
    name: str
    status: OrganisationStatus
    contact_name: str
    contact_email: str
    about: str
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str
    key_calls_per_minute: int


@dataclass(frozen=True)
class MemberRecord:
    user_id: int
    email: str
    display_name: str
    is_admin: bool
    active: bool
    added_at: datetime


@dataclass(frozen=True)
class Membership:
    """Who a signed-in employer is to their organisation."""

    organisation: OrganisationRecord
    is_admin: bool


@dataclass(frozen=True)
class Contact:
    """The organisation's name and the person to invite as its first administrator, checked."""

    name: str
    contact_name: str
    contact_email: str
    about: str = ""


def check_contact(name: str, contact_name: str, contact_email: str, about: str = "") -> Contact:
    """The answers tidied, or InvalidInput naming the first field at fault."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Enter the organisation's name", field="name")
    if wrong := text.text_problem(name, "The organisation's name"):
        raise InvalidInput(wrong, field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(
            f"The organisation's name must be {MAX_NAME} characters or fewer", field="name"
        )
    try:
        person = users.check_display_name(contact_name)
    except InvalidInput as error:
        raise InvalidInput(error.detail, field="contact_name") from error
    try:
        email = users.normalise_email(contact_email)
    except InvalidInput as error:
        raise InvalidInput(error.detail, field="contact_email") from error
    about = about.strip()
    if wrong := text.text_problem(about, "What the organisation does", multiline=True):
        raise InvalidInput(wrong, field="about")
    if len(about) > MAX_ABOUT:
        raise InvalidInput(
            f"What the organisation does must be {MAX_ABOUT:,} characters or fewer", field="about"
        )
    return Contact(name, person, email, about)


def _record(row: dict[str, Any]) -> OrganisationRecord:
    return OrganisationRecord(
        id=row["id"],
        name=row["name"],
        status=OrganisationStatus(row["status"]),
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
        about=row["about"],
        created_at=row["created_at"],
        decided_at=row["decided_at"],
        decision_reason=row["decision_reason"],
        key_calls_per_minute=row["key_calls_per_minute"],
    )


async def get(organisation_id: int) -> OrganisationRecord:
    row = await Organisation.select().where(Organisation.id == organisation_id).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return _record(row)


async def list_all() -> list[OrganisationRecord]:
    """Requests waiting first, oldest first; then the rest by name."""
    rows = await Organisation.select().order_by(Organisation.created_at)
    waiting = [_record(r) for r in rows if r["status"] == OrganisationStatus.requested.value]
    others = sorted(
        (_record(r) for r in rows if r["status"] != OrganisationStatus.requested.value),
        key=lambda record: record.name.casefold(),
    )
    return waiting + others


async def membership_of(user_id: int) -> Membership | None:
    """The user's organisation, if they belong to an approved one."""
    member = (
        await Member.select(Member.organisation, Member.is_admin)
        .where(Member.user == user_id)
        .first()
    )
    if member is None:
        return None
    organisation = await get(member["organisation"])
    if organisation.status is not OrganisationStatus.approved:
        return None
    return Membership(organisation, bool(member["is_admin"]))


async def require_membership(user_id: int, *, admin: bool = False) -> Membership:
    """The user's organisation, or NotFound (an employer with none has nothing to see); with
    ``admin``, PermissionDenied for a member who does not administer it."""
    membership = await membership_of(user_id)
    if membership is None:
        raise NotFound("You are not a member of an employer organisation on this service")
    if admin and not membership.is_admin:
        raise PermissionDenied(
            "Only an administrator of your organisation can do this: ask one of them"
        )
    return membership


async def members(organisation_id: int) -> list[MemberRecord]:
    rows = await Member.raw(
        "SELECT u.id AS user_id, u.email, u.display_name, u.active, m.is_admin, m.added_at"
        " FROM employer_member m JOIN account_user u ON u.id = m.user"
        " WHERE m.organisation = {} ORDER BY u.display_name, u.id",
        organisation_id,
    )
    return [
        MemberRecord(
            r["user_id"],
            r["email"],
            r["display_name"],
            bool(r["is_admin"]),
            bool(r["active"]),
            r["added_at"],
        )
        for r in rows
    ]


# --- asking for an organisation, and deciding -------------------------------------------------


async def request_organisation(answers: Contact, client_address: str) -> OrganisationRecord:
    """Record a self-service request for a registrar to decide, and tell the requester."""
    moment = clock.now().astimezone(UTC)
    async with transaction():
        recent = await Organisation.count().where(
            (Organisation.requested_from == client_address)
            & (Organisation.created_at > moment - REQUEST_WINDOW)
        )
        if recent >= REQUESTS_PER_ADDRESS:
            raise TooManyRequests(
                "There have been too many requests for an organisation from your connection. "
                "Wait an hour, then try again.",
                retry_after=int(REQUEST_WINDOW.total_seconds()),
            )
        organisation = Organisation(
            name=answers.name,
            status=OrganisationStatus.requested.value,
            contact_name=answers.contact_name,
            contact_email=answers.contact_email,
            about=answers.about,
            requested_from=client_address,
            created_at=moment,
        )
        await organisation.save()
        await audit.record(
            "employers.organisation_requested",
            TARGET,
            organisation.id,
            after={"name": answers.name, "contact_email": answers.contact_email},
        )
        await notifications.queue_email(
            answers.contact_email,
            "employer_request_received",
            {"contact_name": answers.contact_name, "organisation": answers.name},
            subject="We have your request for an employer account",
            key=f"employer-request:{organisation.id}",
        )
    return await get(organisation.id)


async def create_organisation(answers: Contact, *, by_user_id: int) -> OrganisationRecord:
    """Staff make an organisation, approved at once; its contact is invited as administrator."""
    moment = clock.now().astimezone(UTC)
    async with transaction():
        organisation = Organisation(
            name=answers.name,
            status=OrganisationStatus.approved.value,
            contact_name=answers.contact_name,
            contact_email=answers.contact_email,
            created_at=moment,
            decided_at=moment,
            decided_by=by_user_id,
            decision_reason="Created by staff",
        )
        await organisation.save()
        await audit.record(
            "employers.organisation_created",
            TARGET,
            organisation.id,
            after={"name": answers.name, "contact_email": answers.contact_email},
        )
        await _add_member(
            organisation.id,
            answers.contact_email,
            answers.contact_name,
            is_admin=True,
            by_user_id=by_user_id,
            existing_allowed=True,
        )
    return await get(organisation.id)


async def decide(
    organisation_id: int, *, approve: bool, reason: str, by_user_id: int
) -> OrganisationRecord:
    """Approve or refuse a request once, with the reason recorded and sent to the requester;
    approval invites the contact as the organisation's first administrator."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Give the reason for your decision", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"The reason must be {MAX_REASON:,} characters or fewer", field="reason")
    async with transaction():
        await lock_row(Organisation, organisation_id)
        current = await get(organisation_id)
        if current.status is not OrganisationStatus.requested:
            raise Conflict(f"This request has already been {current.status.value}")
        status = OrganisationStatus.approved if approve else OrganisationStatus.refused
        await Organisation.update(
            {
                Organisation.status: status.value,
                Organisation.decided_at: clock.now().astimezone(UTC),
                Organisation.decided_by: by_user_id,
                Organisation.decision_reason: reason,
            }
        ).where(Organisation.id == organisation_id)
        await audit.record(
            f"employers.organisation_{status.value}",
            TARGET,
            organisation_id,
            before={"status": current.status.value},
            after={"status": status.value, "reason": reason},
        )
        await notifications.queue_email(
            current.contact_email,
            "employer_request_decided",
            {
                "contact_name": current.contact_name,
                "organisation": current.name,
                "approved": approve,
                "reason": reason,
            },
            subject="Your request for an employer account: "
            + ("approved" if approve else "refused"),
            key=f"employer-decision:{organisation_id}",
        )
        if approve:
            await _add_member(
                organisation_id,
                current.contact_email,
                current.contact_name,
                is_admin=True,
                by_user_id=by_user_id,
                existing_allowed=True,
            )
    return await get(organisation_id)


# --- members ----------------------------------------------------------------------------------


async def invite_colleague(
    user_id: int, email: str, display_name: str, *, admin: bool
) -> MemberRecord:
    """An administrator invites a colleague to the organisation (a new account with the
    ``employer`` role, and the accounts invitation to choose a password)."""
    membership = await require_membership(user_id, admin=True)
    try:
        address = users.normalise_email(email)
    except InvalidInput as error:
        raise InvalidInput(error.detail, field="email") from error
    try:
        name = users.check_display_name(display_name)
    except InvalidInput as error:
        raise InvalidInput(error.detail, field="display_name") from error
    async with transaction():
        return await _add_member(
            membership.organisation.id,
            address,
            name,
            is_admin=admin,
            by_user_id=user_id,
            existing_allowed=False,
        )


async def _add_member(
    organisation_id: int,
    email: str,
    display_name: str,
    *,
    is_admin: bool,
    by_user_id: int,
    existing_allowed: bool,
) -> MemberRecord:
    """Inside the caller's transaction. A new address is invited; an existing account (staff
    vouch for it, on approval or when they make the organisation) is given the employer role.
    A colleague's invitation may not take over someone's existing account."""
    inviter = await users.get_account(by_user_id)
    known = await users.find_account_by_email(email)
    if known is None:
        account = await users.invite_user(
            email, display_name, [Role.employer], invited_by=inviter.display_name
        )
    elif not existing_allowed:
        raise Conflict(
            f"{email} already has an account on this service. Ask the registrar to add it to "
            "your organisation.",
            field="email",
        )
    else:
        if await Member.exists().where(Member.user == known.id):
            raise Conflict(f"{email} already belongs to an employer organisation", field="email")
        account = known
        if Role.employer not in known.roles:
            account = await users.set_roles(known.id, {*known.roles, Role.employer})
        await notifications.queue_email(
            account.email,
            "employer_member_added",
            {"display_name": account.display_name, "path": ORGANISATION_PAGE},
            subject="You have been added to an employer organisation",
            key=f"employer-member:{organisation_id}:{account.id}",
        )
    moment = clock.now().astimezone(UTC)
    await Member.insert(
        Member(
            organisation=organisation_id,
            user=account.id,
            is_admin=is_admin,
            added_at=moment,
            added_by=by_user_id,
        )
    )
    await audit.record(
        "employers.member_added",
        TARGET,
        organisation_id,
        after={"user": account.id, "email": account.email, "admin": is_admin},
    )
    return MemberRecord(
        account.id, account.email, account.display_name, is_admin, account.active, moment
    )
