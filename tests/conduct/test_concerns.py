"""Raising a concern: a reference at once (and by email), one case per practitioner, nobody
dropped for want of a number; what each reader of a case sees, and the audit of staff reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.audit.tables import AuditEntry
from registry.conduct import concerns, references, service, workflow
from registry.conduct.tables import Case, Concern, Stage
from registry.conduct.workflow import Move
from registry.errors import InvalidInput, NotFound
from registry.notifications.tables import OutboxMessage
from tests.conduct.helpers import case_at, concern_about, people


def test_references_carry_a_check_character_and_read_back_forgivingly() -> None:
    made = references.new_reference()
    assert made.startswith("FTP-")
    assert len(made) == len("FTP-XXXX-XXXX-X")
    assert references.parse_reference(made.lower().replace("-", " ")) == made
    body = made[4:].replace("-", "")
    swapped = body[1] + body[0] + body[2:]
    if swapped != body:
        with pytest.raises(InvalidInput):
            references.parse_reference("FTP-" + swapped)
    with pytest.raises(InvalidInput, match="not a concern reference"):
        references.parse_reference("FTP-123")


async def test_a_concern_gets_its_reference_at_once_and_by_email(engine: Any) -> None:
    who = await people()
    raised = await concerns.raise_concern(concern_about(who.entry.registration_number))
    assert raised.case_reference == raised.reference
    assert not raised.needs_identifying
    [email] = await OutboxMessage.select().where(
        OutboxMessage.template == "conduct_concern_received"
    )
    assert email["recipient"] == "rae@example.org"
    assert json.loads(email["body"])["reference"] == raised.reference
    case = await workflow.get_case(raised.case_id)
    assert case.stage is Stage.received


async def test_concerns_about_one_practitioner_make_one_case(engine: Any) -> None:
    who = await people()
    first = await concerns.raise_concern(concern_about(who.entry.registration_number))
    second = await concerns.raise_concern(
        concern_about(who.entry.registration_number, relationship="employer")
    )
    assert second.case_id == first.case_id
    assert second.reference != first.reference
    assert await Case.count() == 1


async def test_a_concern_naming_nobody_on_the_register_is_flagged_then_linked(
    engine: Any,
) -> None:
    who = await people()
    existing = await case_at(Stage.investigation, who)
    raised = await concerns.raise_concern(
        concern_about("", about_name="Pat Smith", about_workplace="Leeds office")
    )
    assert raised.needs_identifying
    flagged = await workflow.get_case(raised.case_id)
    assert flagged.entry_id is None
    assert flagged.needs_identifying
    holder = await concerns.identify(
        raised.case_id, who.entry.registration_number, by=who.caseworker, version=flagged.version
    )
    assert holder == existing
    assert (await workflow.get_case(raised.case_id)).stage is Stage.closed
    assert await Concern.count().where(Concern.case == existing) == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"categories": ["parking"]}, "categories"),
        ({"categories": []}, "categories"),
        ({"what_happened": "  "}, "what_happened"),
        ({"what_happened": "bad\x00byte"}, "what_happened"),
        ({"about_number": "", "about_name": ""}, "about_name"),
        ({"relationship": "neighbour"}, "relationship"),
        ({"relationship": "regulator"}, "relationship"),
        ({"raiser_email": "not-an-address"}, "raiser_email"),
        ({"raiser_name": "Rae\u202eIser"}, "raiser_name"),
        ({"about_number": "PR12"}, "registration_number"),
    ],
)
async def test_a_bad_concern_is_refused_and_nothing_is_stored(
    engine: Any, changes: dict[str, Any], field: str
) -> None:
    who = await people()
    with pytest.raises(InvalidInput) as refused:
        await concerns.raise_concern(concern_about(who.entry.registration_number, **changes))
    assert refused.value.field == field
    assert await Concern.count() == 0
    assert await Case.count() == 0


async def test_staff_see_who_raised_it_and_every_read_is_audited(engine: Any) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    detail = await service.staff_case(case_id, who.caseworker)
    [concern] = detail.concerns
    assert concern.raiser_name == "Rae Iser"
    assert concern.raiser_email == "rae@example.org"
    assert detail.allowed_moves == [Move.refer_to_case_examiners]
    reads = await AuditEntry.count().where(AuditEntry.action == "conduct.case_read")
    assert reads == 1
    await service.staff_case(case_id, who.caseworker)
    assert await AuditEntry.count().where(AuditEntry.action == "conduct.case_read") == 2


async def test_the_practitioner_sees_the_raiser_only_with_consent(engine: Any) -> None:
    who = await people()
    assert who.practitioner.user_id is not None
    case_id = await case_at(Stage.investigation, who)
    [hidden] = (await service.practitioner_case(who.practitioner.user_id, case_id)).concerns
    assert hidden.raiser_name is None
    assert hidden.raiser_email is None
    assert hidden.what_happened
    await Concern.update({Concern.consent_to_share: True}).where(Concern.case == case_id)
    [shown] = (await service.practitioner_case(who.practitioner.user_id, case_id)).concerns
    assert shown.raiser_name == "Rae Iser"


async def test_a_practitioner_cannot_read_anothers_case_or_one_not_yet_put_to_them(
    engine: Any,
) -> None:
    who = await people()
    from registry.accounts import users
    from registry.accounts.roles import Role
    from tests.register.helpers import put_on_register

    other = await users.create_user("other@example.org", "Other", [Role.practitioner])
    await put_on_register("Other", "Person", account_id=other.id)
    case_id = await case_at(Stage.investigation, who)
    with pytest.raises(NotFound):
        await service.practitioner_case(other.id, case_id)
    assert who.practitioner.user_id is not None
    untriaged = await case_at(Stage.triage, await _second(who))
    with pytest.raises(NotFound):
        await service.practitioner_case(who.practitioner.user_id, untriaged)
    assert await service.practitioner_cases(other.id) == []


async def _second(who: Any) -> Any:
    from dataclasses import replace

    from registry.accounts import users
    from registry.accounts.roles import Role
    from registry.conduct.workflow import Mover
    from tests.register.helpers import put_on_register

    account = await users.create_user("sam@example.org", "Sam", [Role.practitioner])
    entry = await put_on_register("Sam", "Jones", account_id=account.id)
    return replace(who, entry=entry, practitioner=Mover(account.id, frozenset({Role.practitioner})))
