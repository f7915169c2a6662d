"""Applications: the answers, the state machine, duplicates, approval and restoration.

The rules are tested through the ``applications`` modules themselves; the pages that drive them
are tested in ``test_application_pages.py``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from registry.accounts.roles import Role
from registry.config import Settings
from registry.core import clock
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.notifications import service as notifications
from registry.register import numbers, renewals, service
from registry.register import search as public_register
from registry.register.applications import answers, records, workflow
from registry.register.applications.answers import InvalidAnswers
from registry.register.applications.workflow import Move
from registry.register.service import EntryMove
from registry.register.tables import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    EntryState,
    RegisterEntry,
    RegisterStatus,
)
from tests.register.applying import (
    CALENDAR,
    audit_actions,
    emails,
    fill_in,
    new_account,
    registrar,
    submitted_application,
)
from tests.register.helpers import put_on_register, register_history


def at(moment: datetime) -> Any:
    return clock.frozen_at(moment)


# --- answers ------------------------------------------------------------------------------

TODAY = clock.now().date()
LONG = "x" * 101

BAD_ANSWERS: list[tuple[answers.Section, dict[str, str]]] = [
    (
        answers.Name("", " "),
        {"given_names": "Enter your given names", "family_name": "Enter your family name"},
    ),
    (
        answers.Name(LONG, "Okoye"),
        {"given_names": "Given names must be 100 characters or fewer"},
    ),
    (
        answers.Name("=HYPERLINK(1)", "Okoye\nSmith"),
        {
            "given_names": "Given names must be on one line and must not start with =, + or @",
            "family_name": "Family name must be on one line and must not start with =, + or @",
        },
    ),
    (
        answers.Name("Amara", "Ok\x00oye"),
        {"family_name": "Family name must not contain control characters"},
    ),
    (
        answers.DateOfBirth(TODAY + timedelta(days=1)),
        {"date_of_birth": "Date of birth must be in the past"},
    ),
    (
        answers.DateOfBirth(TODAY.replace(year=TODAY.year - 17)),
        {"date_of_birth": "You must be at least 18 years old to apply"},
    ),
    (
        answers.DateOfBirth(date(1899, 12, 31)),
        {"date_of_birth": "Date of birth must be after 1900"},
    ),
    (answers.Contact(""), {"email": "Enter your email address"}),
    (
        answers.Contact("amara at example"),
        {"email": "Enter an email address in the correct format, like name@example.org"},
    ),
    (
        answers.Contact("amara@example.org", "call me"),
        {"phone": "Enter a telephone number, like 01632 960 001 or +44 808 157 0192"},
    ),
    (
        answers.Address("", ""),
        {"address": "Enter your address", "postcode": "Enter your postcode"},
    ),
    (
        answers.Address("1 Road", "NOT A CODE"),
        {"postcode": "Enter a real postcode, like SW1A 1AA"},
    ),
    (
        answers.Address("y" * 501, "LS1 4AP"),
        {"address": "Address must be 500 characters or fewer"},
    ),
    (answers.RoleAnswer(""), {"role": "Select your designated role"}),
    (answers.RoleAnswer("astronaut"), {"role": "Select a designated role from the list"}),
    (answers.RegionAnswer(""), {"region": "Select the region you work in"}),
    (answers.RegionAnswer("atlantis"), {"region": "Select a region from the list"}),
    (
        answers.Qualification("", None, ""),
        {
            "qualification_type": "Select your qualification",
            "awarded_on": "Enter the date the qualification was awarded",
            "institution": "Enter the name of the institution that awarded it",
        },
    ),
    (
        answers.Qualification("phd_in_wizardry", TODAY, "Hogwarts"),
        {"qualification_type": "Select a qualification from the list"},
    ),
    (
        answers.Qualification("pqip", TODAY + timedelta(days=1), "Leeds"),
        {"awarded_on": "The date it was awarded must be today or in the past"},
    ),
    (
        answers.Name("12345", "!!!"),
        {
            "given_names": "Given names must include letters",
            "family_name": "Family name must include letters",
        },
    ),
    (
        # fill_in answers a date of birth of 17 May 1990
        answers.Qualification("pqip", date(2006, 5, 16), "Leeds"),
        {"awarded_on": "The date it was awarded must be on or after your 16th birthday"},
    ),
    (
        answers.Qualification("pqip", TODAY, "z" * 201),
        {"institution": "Institution must be 200 characters or fewer"},
    ),
    (
        answers.Declaration("character", None),
        {"character_declaration": "Select yes if you have a conviction or caution to declare"},
    ),
    (
        answers.Declaration("character", True, "  "),
        {"character_details": "Give the details of what you are declaring"},
    ),
    (
        answers.Declaration("health", True, "h" * 5001),
        {"health_details": "Details must be 5,000 characters or fewer"},
    ),
]


@pytest.mark.parametrize(("section", "problems"), BAD_ANSWERS)
async def test_each_wrong_answer_is_named_and_nothing_is_saved(
    engine: Any, settings: Settings, section: answers.Section, problems: dict[str, str]
) -> None:
    applicant = await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    await fill_in(draft.id, applicant.id, settings.data_dir)
    before = await Application.select().where(Application.id == draft.id).first()
    with pytest.raises(InvalidAnswers) as refused:
        await records.save(draft.id, applicant.id, section)
    assert refused.value.problems == problems
    assert await Application.select().where(Application.id == draft.id).first() == before


async def test_good_answers_are_kept_tidied(engine: Any, settings: Settings) -> None:
    applicant = await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    assert draft.email == applicant.email  # a start, from the account
    record = await fill_in(draft.id, applicant.id, settings.data_dir, email=" Amara@Example.ORG ")
    assert record.email == "amara@example.org"
    assert record.postcode == "LS1 4AP"
    assert record.role_code == "probation_officer"
    assert record.region_name == "Yorkshire and the Humber"
    assert record.health_declaration is True
    assert record.health_details == "Asthma, well controlled"
    changed = await records.save(
        draft.id, applicant.id, answers.Declaration("health", False, "ignored when no")
    )
    assert (changed.health_declaration, changed.health_details) == (False, "")
    assert answers.missing_answers(changed) == {}


async def test_submitting_needs_every_answer(engine: Any, settings: Settings) -> None:
    applicant = await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    await records.save(draft.id, applicant.id, answers.Name("Amara", "Okoye"))
    with pytest.raises(InvalidAnswers) as refused:
        await workflow.submit(draft.id, applicant.id)
    assert list(refused.value.problems) == [
        "date-of-birth",
        "address",
        "role",
        "region",
        "qualification",
        "evidence",
        "character",
        "health",
    ]
    assert (await records.get(draft.id)).status is ApplicationStatus.draft
    assert await emails() == []


async def test_a_date_of_birth_changed_after_the_qualification_is_checked_again_on_sending(
    engine: Any, settings: Settings
) -> None:
    applicant = await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    await fill_in(draft.id, applicant.id, settings.data_dir)  # awarded 1 July 2020
    await records.save(draft.id, applicant.id, answers.DateOfBirth(date(2005, 1, 1)))
    with pytest.raises(InvalidAnswers) as refused:
        await workflow.submit(draft.id, applicant.id)
    assert refused.value.problems == {
        "qualification": "The date it was awarded must be on or after your 16th birthday"
    }
    assert (await records.get(draft.id)).status is ApplicationStatus.draft


async def test_a_submitted_application_is_audited_and_confirmed_by_email(
    engine: Any, settings: Settings
) -> None:
    applicant = await new_account()
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with at(moment):
        record = await submitted_application(settings.data_dir, applicant)
    assert record.status is ApplicationStatus.submitted
    assert record.submitted_at == moment
    assert await audit_actions(record.id) == [
        "register.application_started",
        "register.evidence_uploaded",
        "register.application_submitted",
    ]
    [email] = await emails("application_submitted")
    assert email["recipient"] == "amara.okoye@example.org"
    assert json.loads(str(email["body"]))["reference"] == record.reference
    # Submitted answers are the registrar's to judge now: they cannot be changed.
    with pytest.raises(Conflict, match="can no longer be changed"):
        await records.save(record.id, applicant.id, answers.Name("Someone", "Else"))
    assert (await records.get(record.id)).given_names == "Amara"


# --- one application at a time ----------------------------------------------------------


async def test_a_second_application_is_refused_while_one_is_open(
    engine: Any, settings: Settings
) -> None:
    applicant = await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    with pytest.raises(
        Conflict, match=f"already have an application in progress \\({draft.reference}\\)"
    ):
        await workflow.start(applicant.id, ApplicationKind.initial)
    await fill_in(draft.id, applicant.id, settings.data_dir)
    await workflow.submit(draft.id, applicant.id)
    with pytest.raises(Conflict, match="only have one application at a time"):
        await workflow.start(applicant.id, ApplicationKind.initial)
    assert await Application.count().where(Application.applicant == applicant.id) == 1


async def test_a_new_application_may_follow_a_rejected_one(engine: Any, settings: Settings) -> None:
    applicant = await new_account()
    first = await submitted_application(settings.data_dir, applicant)
    await workflow.reject(first.id, registrar_id=(await registrar()).id, reason="No evidence")
    second = await workflow.start(applicant.id, ApplicationKind.initial)
    assert second.id != first.id
    assert (await records.latest_for(applicant.id)) == second


async def test_someone_on_the_register_cannot_apply_to_join(
    engine: Any, settings: Settings
) -> None:
    applicant = await new_account()
    entry = await put_on_register(account_id=applicant.id)
    with pytest.raises(
        Conflict, match=f"already on the register \\({entry.registration_number}\\)"
    ):
        await workflow.start(applicant.id, ApplicationKind.initial)
    await service.move_entry(entry.id, EntryMove.lapse, reason="Not renewed")
    with pytest.raises(Conflict, match="Apply for restoration instead"):
        await workflow.start(applicant.id, ApplicationKind.initial)
    assert await Application.count() == 0


async def test_a_draft_made_before_joining_cannot_be_submitted_after(
    engine: Any, settings: Settings
) -> None:
    applicant = await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    await fill_in(draft.id, applicant.id, settings.data_dir)
    await put_on_register(account_id=applicant.id)  # an import, say
    with pytest.raises(Conflict, match="already on the register"):
        await workflow.submit(draft.id, applicant.id)
    assert (await records.get(draft.id)).status is ApplicationStatus.draft


async def test_an_applicant_reaches_only_their_own_application(
    engine: Any, settings: Settings
) -> None:
    owner, other = await new_account(), await new_account()
    draft = await workflow.start(owner.id, ApplicationKind.initial)
    with pytest.raises(PermissionDenied):
        await records.save(draft.id, other.id, answers.Name("Mal", "Icious"))
    with pytest.raises(PermissionDenied):
        await records.get_own(draft.id, other.id)
    await fill_in(draft.id, owner.id, settings.data_dir)
    with pytest.raises(PermissionDenied):
        await workflow.submit(draft.id, other.id)
    assert (await records.get(draft.id)).status is ApplicationStatus.draft
    assert await records.latest_for(other.id) is None
    with pytest.raises(NotFound):
        await records.get(987654)


async def test_the_same_person_under_another_account_is_pointed_out_to_the_registrar(
    engine: Any, settings: Settings
) -> None:
    first = await submitted_application(settings.data_dir, given="Amara", family="Okoye")
    entry = await service.create_entry(
        service.EntryIn(
            person=service.PersonIn("Amara Jane", "OKOYE", date(1990, 5, 17)),
            role_codes=["probation_officer"],
            region_code="london",
            registered_since=date(2020, 1, 1),
            registered_until=date(2026, 11, 30),
        ),
        reason="Imported",
    )
    await put_on_register("Someone", "Else")  # a different person: not listed
    second = await submitted_application(settings.data_dir, given="Amara", family="Okoye")
    found = await records.possible_duplicates(second)
    assert [(d.label, d.href) for d in found] == [
        (
            f"Amara Jane OKOYE, on the register as {entry.registration_number}",
            f"/register/{entry.registration_number}",
        ),
        (
            f"Amara Okoye, application {first.reference} (submitted)",
            f"/registrar/applications/{first.id}",
        ),
    ]
    unrelated = await submitted_application(settings.data_dir, given="Amara", family="Obi")
    assert await records.possible_duplicates(unrelated) == []


# --- the state machine --------------------------------------------------------------------


def _mover(move: Move) -> Callable[[Any, int, int], Awaitable[Any]]:
    async def submit(record: Any, applicant: int, registrar: int) -> Any:
        return await workflow.submit(record.id, applicant)

    async def approve(record: Any, applicant: int, registrar: int) -> Any:
        return await workflow.approve(record.id, registrar_id=registrar, calendar=CALENDAR)

    async def reject(record: Any, applicant: int, registrar: int) -> Any:
        return await workflow.reject(record.id, registrar_id=registrar, reason="Not eligible")

    async def ask(record: Any, applicant: int, registrar: int) -> Any:
        return await workflow.request_information(
            record.id, registrar_id=registrar, question="Which year did you qualify?"
        )

    async def respond(record: Any, applicant: int, registrar: int) -> Any:
        return await workflow.respond(record.id, applicant, "In 2020")

    return {
        Move.submit: submit,
        Move.approve: approve,
        Move.reject: reject,
        Move.request_information: ask,
        Move.respond: respond,
    }[move]


async def test_every_move_from_every_status_is_allowed_or_refused_by_the_machine(
    engine: Any, settings: Settings
) -> None:
    decider = await registrar()
    checked = 0
    for status in ApplicationStatus:
        for move in Move:
            applicant = await new_account()
            draft = await workflow.start(applicant.id, ApplicationKind.initial)
            await fill_in(draft.id, applicant.id, settings.data_dir)
            await Application.update(
                {Application.status: status.value, Application.submitted_at: clock.now()}
            ).where(Application.id == draft.id)
            record = await records.get(draft.id)
            before = await Application.select().where(Application.id == draft.id).first()
            audited, queued = len(await audit_actions()), len(await emails())
            entries = await RegisterEntry.count()
            transition = workflow.MOVES[move]
            if status in transition.allowed_from:
                moved = await _mover(move)(record, applicant.id, decider.id)
                assert moved.status is transition.to, (status, move)
                assert len(await audit_actions()) > audited
            else:
                label = record.status_label.lower()
                said = (
                    transition.already
                    if status is transition.to
                    else f"This application has already been {label}, so it"
                    if status in (ApplicationStatus.approved, ApplicationStatus.rejected)
                    else f"Application {record.reference} is {label}, so it"
                )
                with pytest.raises(Conflict, match=f"^{said}"):
                    await _mover(move)(record, applicant.id, decider.id)
                after = await Application.select().where(Application.id == draft.id).first()
                assert after == before, (status, move)
                assert len(await audit_actions()) == audited
                assert len(await emails()) == queued
                assert await RegisterEntry.count() == entries
            checked += 1
    assert checked == len(ApplicationStatus) * len(Move)


async def test_a_lost_race_is_refused_too(engine: Any, settings: Settings) -> None:
    """Two registrars open the same application; the second decision is refused."""
    record = await submitted_application(settings.data_dir)
    first, second = await registrar(), await registrar()
    await workflow.reject(record.id, registrar_id=first.id, reason="Duplicate")
    with pytest.raises(Conflict, match="has changed since you opened it: it is now rejected"):
        await workflow._transition(record, Move.approve, {})
    with pytest.raises(Conflict):
        await workflow.approve(record.id, registrar_id=second.id, calendar=CALENDAR)
    assert await RegisterEntry.count() == 0


async def test_a_decision_made_twice_is_told_it_was_made(engine: Any, settings: Settings) -> None:
    record = await submitted_application(settings.data_dir)
    first, second = await registrar(), await registrar()
    await workflow.approve(record.id, registrar_id=first.id, calendar=CALENDAR)
    with pytest.raises(Conflict) as refused:
        await workflow.approve(record.id, registrar_id=second.id, calendar=CALENDAR)
    assert refused.value.detail == "This application has already been approved."
    other = await submitted_application(settings.data_dir)
    await workflow.reject(other.id, registrar_id=first.id, reason="Duplicate")
    with pytest.raises(Conflict) as again:
        await workflow.reject(other.id, registrar_id=second.id, reason="Duplicate")
    assert again.value.detail == "This application has already been rejected."


async def test_a_registrar_cannot_decide_their_own_application(
    engine: Any, settings: Settings
) -> None:
    both = await new_account(Role.registrar)
    record = await submitted_application(settings.data_dir, both)
    with pytest.raises(PermissionDenied, match="Ask another registrar"):
        await workflow.approve(record.id, registrar_id=both.id, calendar=CALENDAR)
    assert (await records.get(record.id)).status is ApplicationStatus.submitted


@pytest.mark.parametrize(
    ("decide", "field", "message"),
    [
        ("reject", "reason", "Enter the reason for rejecting"),
        ("request_information", "question", "Enter what you need the applicant to tell you"),
    ],
)
async def test_a_rejection_needs_a_reason_and_a_request_a_question(
    engine: Any, settings: Settings, decide: str, field: str, message: str
) -> None:
    record = await submitted_application(settings.data_dir)
    decider = await registrar()
    function = getattr(workflow, decide)
    for text, expected in (
        ("   ", message),
        (
            "q" * 5001,
            f"{'Reason' if field == 'reason' else 'Question'} must be 5,000 characters or fewer",
        ),
    ):
        with pytest.raises(InvalidAnswers) as refused:
            await function(record.id, registrar_id=decider.id, **{field: text})
        assert refused.value.problems == {field: expected}
    assert (await records.get(record.id)).status is ApplicationStatus.submitted
    assert await emails() == (await emails("application_submitted"))


async def test_further_information_goes_to_the_applicant_and_back_to_the_queue(
    engine: Any, settings: Settings
) -> None:
    applicant = await new_account()
    record = await submitted_application(settings.data_dir, applicant)
    decider = await registrar()
    asked = await workflow.request_information(
        record.id, registrar_id=decider.id, question="Send the transcript, please."
    )
    assert asked.status is ApplicationStatus.further_information_requested
    assert [item.id for item in (await records.queue()).items] == []
    [email] = await emails("application_information_requested")
    assert json.loads(str(email["body"]))["question"] == "Send the transcript, please."
    with pytest.raises(InvalidAnswers) as empty:
        await workflow.respond(record.id, applicant.id, " ")
    assert empty.value.problems == {
        "information_response": "Enter your answer to the registrar's question"
    }
    answered = await workflow.respond(record.id, applicant.id, "Attached to my email.")
    assert answered.status is ApplicationStatus.under_review
    assert answered.information_response == "Attached to my email."
    assert [item.id for item in (await records.queue()).items] == [record.id]
    # A second question is a second email.
    await workflow.request_information(record.id, registrar_id=decider.id, question="And?")
    assert len(await emails("application_information_requested")) == 2


async def test_the_queue_lists_submitted_applications_oldest_first_with_their_age(
    engine: Any, settings: Settings
) -> None:
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    made = []
    for days_ago, given in ((3, "Later"), (10, "Oldest"), (1, "Newest")):
        with at(start - timedelta(days=days_ago)):
            made.append(await submitted_application(settings.data_dir, given=given))
    await workflow.start((await new_account()).id, ApplicationKind.initial)  # a draft
    with at(start):
        waiting = await records.queue()
    assert [(item.name, item.age_days) for item in waiting.items] == [
        ("Oldest Okoye", 10),
        ("Later Okoye", 3),
        ("Newest Okoye", 1),
    ]
    assert waiting.total == 3
    await workflow.reject(made[0].id, registrar_id=(await registrar()).id, reason="No")
    assert [i.name for i in (await records.queue("rejected")).items] == ["Later Okoye"]
    assert (await records.queue("all")).total == 3
    with pytest.raises(InvalidInput):
        await records.queue("drafts")


# --- approval -----------------------------------------------------------------------------


async def test_approval_puts_the_applicant_on_the_register_and_welcomes_them(
    engine: Any, settings: Settings
) -> None:
    applicant = await new_account()
    record = await submitted_application(settings.data_dir, applicant)
    decider = await registrar()
    today = date(2026, 10, 5)  # inside the renewal window: the first year runs to the next one
    with at(datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=11)):
        approved = await workflow.approve(record.id, registrar_id=decider.id, calendar=CALENDAR)
    assert approved.status is ApplicationStatus.approved
    assert approved.decided_by_name == decider.display_name
    assert numbers.parse_registration_number(approved.registration_number)
    entry = await renewals.practitioner_entry(applicant.id)
    assert entry is not None
    assert entry.registration_number == approved.registration_number
    assert entry.status is RegisterStatus.registered
    assert entry.public.registered_since == today
    assert entry.public.registered_until == CALENDAR.first_deadline(today) == date(2027, 11, 30)
    assert entry.public.region.code == "yorkshire_humber"
    assert [role.code for role in entry.public.roles] == ["probation_officer"]
    assert entry.public.qualifications[0].awarded_on == date(2020, 7, 1)
    [welcome] = await emails("application_approved")
    assert welcome["recipient"] == "amara.okoye@example.org"
    body = json.loads(str(welcome["body"]))
    assert body["registration_number"] == entry.registration_number
    assert body["path"] == "/your-registration"
    assert "register.application_approved" in await audit_actions(record.id)
    found = await public_register.search(query=entry.registration_number)
    assert [e.name for e in found.entries] == ["Amara Okoye"]


async def test_approval_is_one_transaction_with_its_email(
    engine: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = await submitted_application(settings.data_dir)
    decider = await registrar()

    async def outbox_down(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(notifications, "queue_email", outbox_down)
    audited = await audit_actions()
    with pytest.raises(RuntimeError):
        await workflow.approve(record.id, registrar_id=decider.id, calendar=CALENDAR)
    assert await RegisterEntry.count() == 0
    assert (await records.get(record.id)).status is ApplicationStatus.submitted
    assert await audit_actions() == audited


async def test_rejection_tells_the_applicant_why(engine: Any, settings: Settings) -> None:
    record = await submitted_application(settings.data_dir)
    rejected = await workflow.reject(
        record.id, registrar_id=(await registrar()).id, reason="The certificate is not yours."
    )
    assert rejected.status is ApplicationStatus.rejected
    assert rejected.decision_reason == "The certificate is not yours."
    [email] = await emails("application_rejected")
    assert json.loads(str(email["body"]))["reason"] == "The certificate is not yours."
    assert await RegisterEntry.count() == 0


# --- restoration --------------------------------------------------------------------------


async def _lapsed(applicant_id: int, move: EntryMove = EntryMove.lapse) -> service.Entry:
    entry = await put_on_register(
        "Nia", "Restored", account_id=applicant_id, until=date(2025, 11, 30)
    )
    return await service.move_entry(entry.id, move, reason="Off the register")


async def _restoration(applicant_id: int) -> records.ApplicationRecord:
    draft = await workflow.start(applicant_id, ApplicationKind.restoration)
    for section in (
        answers.Contact("nia.new@example.org", ""),
        answers.Address("2 New Street\nYork", "YO1 7HH"),
        answers.Declaration("character", False),
        answers.Declaration("health", False),
    ):
        await records.save(draft.id, applicant_id, section)
    return await workflow.submit(draft.id, applicant_id)


@pytest.mark.parametrize("move", [EntryMove.lapse, EntryMove.voluntary_removal])
async def test_a_lapsed_or_departed_practitioner_is_restored_with_their_number(
    engine: Any, settings: Settings, move: EntryMove
) -> None:
    applicant = await new_account()
    entry = await _lapsed(applicant.id, move)
    draft = await workflow.start(applicant.id, ApplicationKind.restoration)
    # Filled from the entry: only contact details and declarations are asked again.
    assert (draft.given_names, draft.family_name, draft.region_code) == (
        "Nia",
        "Restored",
        "london",
    )
    assert draft.entry_id == entry.id
    assert set(answers.missing_answers(draft)) == {"address", "character", "health"}
    await Application.delete().where(Application.id == draft.id)
    record = await _restoration(applicant.id)
    today = date(2026, 4, 20)
    with at(datetime.combine(today, datetime.min.time(), UTC)):
        approved = await workflow.approve(
            record.id, registrar_id=(await registrar()).id, calendar=CALENDAR
        )
    restored = await service.get_entry(entry.id)
    assert approved.registration_number == entry.registration_number == restored.registration_number
    assert restored.state is EntryState.registered
    assert restored.public.registered_until == date(2026, 11, 30)
    assert (await service.get_entry(entry.id)).email == "nia.new@example.org"
    assert [h.change for h in await register_history(entry.id)][-3:] == [
        "restored",
        "state_changed",
        "status_changed",
    ]
    [email] = await emails("restoration_approved")
    assert email["recipient"] == "nia.new@example.org"
    assert await RegisterEntry.count() == 1


async def test_removal_bars_restoration_for_five_years(engine: Any, settings: Settings) -> None:
    applicant = await new_account()
    removed_at = datetime(2024, 6, 10, 9, tzinfo=UTC)
    with at(removed_at):
        await _lapsed(applicant.id, EntryMove.removal)
    with (
        at(datetime(2029, 6, 9, 23, tzinfo=UTC)),
        pytest.raises(Conflict, match="cannot apply for restoration until 10 June 2029"),
    ):
        await workflow.start(applicant.id, ApplicationKind.restoration)
    assert await Application.count() == 0
    with at(datetime(2029, 6, 10, 8, tzinfo=UTC)):
        draft = await workflow.start(applicant.id, ApplicationKind.restoration)
    assert draft.kind is ApplicationKind.restoration


async def test_restoration_is_only_for_those_off_the_register(engine: Any) -> None:
    newcomer = await new_account()
    with pytest.raises(Conflict, match="never been on the register"):
        await workflow.start(newcomer.id, ApplicationKind.restoration)
    registered = await new_account()
    await put_on_register(account_id=registered.id)
    with pytest.raises(Conflict, match="on the register now"):
        await workflow.start(registered.id, ApplicationKind.restoration)
    assert await Application.count() == 0


# --- demo ---------------------------------------------------------------------------------


async def test_the_demo_applications_wait_in_the_queue(
    engine: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.progress import Progress

    from registry.accounts.demo import seed_demo_users
    from registry.demo import DemoSummary
    from registry.register import evidence
    from registry.register.demo_applications import DEMO_APPLICANTS, seed_demo_applications

    monkeypatch.setenv("REGISTRY_DATA_DIR", str(settings.data_dir))
    summary = DemoSummary()
    progress = Progress(disable=True)
    await seed_demo_users(summary, progress)
    await seed_demo_applications(summary, progress)
    await seed_demo_applications(summary, progress)  # again: nothing more
    waiting = await records.queue()
    assert [(item.status, item.age_days > 0) for item in waiting.items] == [
        (ApplicationStatus.submitted, True),
        (ApplicationStatus.under_review, True),
        (ApplicationStatus.submitted, True),
    ]
    asked = await records.queue("further_information_requested")
    assert [item.name for item in asked.items] == ["Rhys Pritchard"]
    assert await Application.count() == len(DEMO_APPLICANTS)
    for item in (await records.queue("all")).items:
        record = await records.get(item.id)
        assert record.evidence is not None
        stored = evidence.path_for(settings.data_dir, record.evidence.sha256).read_bytes()
        assert evidence.sniff(stored) == "application/pdf"
        assert stored.rstrip().endswith(b"%%EOF")
