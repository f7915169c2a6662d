"""The CPD audit's workflow: a table of the moves a case may make (:data:`MOVES`) and one
function that makes a move (:func:`perform`), with who may make it, what it needs and what it
tells the practitioner.

A chosen practitioner submits their profile (once); an assessor finds it meets the standards,
does not, or needs more information (the practitioner answers and it comes back); a second
assessor moderates some decisions, never their own. A profile not in by its date (the daily job)
or not meeting the standards goes to a registrar: advice, extra time to a new date, or lapse.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date
from enum import StrEnum
from typing import Any

from registry.audit import service as audit
from registry.core import clock
from registry.cpd import activities, packs
from registry.cpd.tables import (
    Activity,
    AuditCase,
    AuditCaseState,
    AuditMove,
    AuditSample,
    Standard,
)
from registry.db import lock_row, transaction
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.notifications import service as notifications
from registry.register import service as register
from registry.register.service import EntryMove
from registry.register.tables import RegisterEntry

S = AuditCaseState
MODERATION_RATE = 0.25  # the share of assessors' decisions a second assessor moderates
MAX_TEXT = 10_000
NOT_FOUND = "There is no such CPD audit case"


class Move(StrEnum):
    submit = "submit"
    add_information = "add_information"
    meets = "meets"
    does_not_meet = "does_not_meet"
    request_information = "request_information"
    overdue = "overdue"
    advise = "advise"
    extend = "extend"
    lapse = "lapse"


class Actor(StrEnum):
    practitioner = "practitioner"
    assessor = "assessor"
    registrar = "registrar"
    system = "system"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[AuditCaseState]
    to: AuditCaseState
    actor: Actor
    needs_reason: bool
    refusal: str  # said when the case is elsewhere


MOVES: dict[Move, Transition] = {
    Move.submit: Transition(
        frozenset({S.awaiting_profile}),
        S.submitted,
        Actor.practitioner,
        False,
        "Your CPD profile has already been submitted",
    ),
    Move.add_information: Transition(
        frozenset({S.more_information}),
        S.submitted,
        Actor.practitioner,
        True,
        "No more information has been asked for",
    ),
    Move.meets: Transition(
        frozenset({S.submitted}),
        S.met,
        Actor.assessor,
        True,
        "Only a submitted profile can be assessed",
    ),
    Move.does_not_meet: Transition(
        frozenset({S.submitted}),
        S.not_met,
        Actor.assessor,
        True,
        "Only a submitted profile can be assessed",
    ),
    Move.request_information: Transition(
        frozenset({S.submitted}),
        S.more_information,
        Actor.assessor,
        True,
        "Only a submitted profile can be assessed",
    ),
    Move.overdue: Transition(
        frozenset({S.awaiting_profile}),
        S.overdue,
        Actor.system,
        False,
        "Only a profile still awaited can be overdue",
    ),
    Move.advise: Transition(
        frozenset({S.not_met, S.overdue}),
        S.advised,
        Actor.registrar,
        True,
        "Only a case referred to a registrar can be decided",
    ),
    Move.extend: Transition(
        frozenset({S.not_met, S.overdue}),
        S.awaiting_profile,
        Actor.registrar,
        True,
        "Only a case referred to a registrar can be decided",
    ),
    Move.lapse: Transition(
        frozenset({S.not_met, S.overdue}),
        S.lapsed,
        Actor.registrar,
        True,
        "Only a case referred to a registrar can be decided",
    ),
}

# What each registrar's decision tells the practitioner.
DECISION_EMAILS: dict[Move, tuple[str, str]] = {
    Move.advise: (
        "Advice about your CPD",
        "A registrar has reviewed your CPD audit and gives you advice; no further action is "
        "taken this year.",
    ),
    Move.extend: (
        "More time for your CPD profile",
        "A registrar has given you more time to submit your CPD profile, until {due_on}.",
    ),
    Move.lapse: (
        "Your registration has lapsed",
        "A registrar has decided that your registration lapses because your CPD did not meet "
        "the standards. You must not practise until you are restored to the register.",
    ),
}


@dataclass(frozen=True)
class Profile:
    summary_of_practice: str
    activity_ids: list[int]
    statements: dict[str, str]  # standard code -> statement


@dataclass(frozen=True)
class CaseRecord:
    id: int
    entry_id: int
    practitioner_id: int
    registration_year: int
    state: AuditCaseState
    due_on: date
    summary_of_practice: str
    chosen_activities: list[int]
    statements: dict[str, str]
    information: str
    decided_by: int | None
    decision_reasons: str
    for_moderation: bool
    moderated_by: int | None
    moderation_agrees: bool | None
    version: int


def _record(row: Mapping[str, Any]) -> CaseRecord:
    return CaseRecord(
        id=row["id"],
        entry_id=row["entry"],
        practitioner_id=row["practitioner"],
        registration_year=row["registration_year"],
        state=AuditCaseState(row["state"]),
        due_on=packs.as_date(row["due_on"]),
        summary_of_practice=row["summary_of_practice"],
        chosen_activities=[int(each) for each in json.loads(row["chosen_activities"])],
        statements=dict(json.loads(row["statements"])),
        information=row["information"],
        decided_by=row["decided_by"],
        decision_reasons=row["decision_reasons"],
        for_moderation=bool(row["for_moderation"]),
        moderated_by=row["moderated_by"],
        moderation_agrees=row["moderation_agrees"],
        version=row["version"],
    )


async def get_case(case_id: int) -> CaseRecord:
    row = await AuditCase.select().where(AuditCase.id == case_id).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return _record(row)


async def cases_of(practitioner_id: int) -> list[CaseRecord]:
    """A practitioner's audit cases, newest year first."""
    rows = (
        await AuditCase.select()
        .where(AuditCase.practitioner == practitioner_id)
        .order_by(AuditCase.registration_year, ascending=False)
    )
    return [_record(row) for row in rows]


async def own_case(account_id: int, case_id: int) -> CaseRecord:
    """A practitioner's own case; anyone else's is not found."""
    owner = await activities.owner_of(account_id)
    case = await get_case(case_id)
    if case.practitioner_id != owner.practitioner_id:
        raise NotFound(NOT_FOUND)
    return case


def _text(value: str, label: str, field: str, *, needed: bool = True) -> str:
    value = value.strip()
    if needed and not value:
        raise InvalidInput(f"Enter {label}", field=field)
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{label.capitalize()} must be 10,000 characters or fewer", field=field)
    return value


async def _check_profile(case: CaseRecord, profile: Profile) -> dict[Any, Any]:
    summary = _text(
        profile.summary_of_practice, "a summary of your practice", "summary_of_practice"
    )
    chosen = list(dict.fromkeys(profile.activity_ids))
    if not chosen:
        raise InvalidInput("Choose at least one activity to show", field="activity_ids")
    first, last = _bounds(case)
    rows = await Activity.select(Activity.id).where(
        Activity.id.is_in(chosen),
        Activity.practitioner == case.practitioner_id,
        Activity.done_on >= first,
        Activity.done_on <= last,
    )
    if len(rows) != len(chosen):
        raise InvalidInput(
            f"Choose activities from your CPD record for the year {case.registration_year}",
            field="activity_ids",
        )
    standards = await Standard.select(Standard.code, Standard.name).where(Standard.active.eq(True))
    statements: dict[str, str] = {}
    for standard in standards:
        said = profile.statements.get(standard["code"], "")
        statements[standard["code"]] = _text(
            said, f"how you met “{standard['name']}”", f"statement_{standard['code']}"
        )
    unknown = set(profile.statements) - set(statements)
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]} is not a standard of CPD", field="statements")
    return {
        AuditCase.summary_of_practice: summary,
        AuditCase.chosen_activities: json.dumps(chosen),
        AuditCase.statements: json.dumps(statements),
        AuditCase.submitted_at: clock.now().astimezone(UTC),
    }


def _bounds(case: CaseRecord) -> tuple[date, date]:
    from registry.register.renewals import RenewalCalendar  # the default dates of a year

    return activities.year_bounds(case.registration_year, RenewalCalendar())


async def _for_moderation(case_id: int) -> bool:
    row = (
        await AuditCase.select(AuditCase.sample._.seed.as_alias("seed"))
        .where(AuditCase.id == case_id)
        .first()
    )
    seed = row["seed"] if row else ""
    chooser = random.Random(f"cpd-moderation:{seed}:{case_id}")  # noqa: S311 - reproducible
    return chooser.random() < MODERATION_RATE


async def check_profile(case_id: int, *, by_user_id: int, profile: Profile) -> None:
    """What submitting ``profile`` would refuse, refused now with nothing stored: the check
    answers page shows a profile only once it would be accepted."""
    case = await own_case(by_user_id, case_id)
    if case.state not in MOVES[Move.submit].allowed_from:
        raise Conflict(MOVES[Move.submit].refusal)
    await _check_profile(case, profile)


async def perform(
    case_id: int,
    move: Move,
    *,
    by_user_id: int | None,
    reason: str = "",
    profile: Profile | None = None,
    new_due_on: date | None = None,
    version: int | None = None,
) -> CaseRecord:
    """Make ``move`` on the case, or refuse it (409 when the case is not where the move starts,
    422 when what it needs is missing). ``by_user_id`` is checked by the caller's role (the
    access table); here only the object checks: a practitioner moves only their own case."""
    transition = MOVES[move]
    async with transaction():
        await lock_row(AuditCase, case_id)
        case = await get_case(case_id)
        if transition.actor is Actor.practitioner:
            owner = (
                await RegisterEntry.select(RegisterEntry.practitioner.account.as_alias("account"))
                .where(RegisterEntry.id == case.entry_id)
                .first()
            )
            if owner is None or owner["account"] != by_user_id:
                raise NotFound(NOT_FOUND)
        if version is not None and version != case.version:
            raise Conflict("Someone else has changed this case since you opened it: look again")
        if case.state not in transition.allowed_from:
            raise Conflict(transition.refusal)
        values: dict[Any, Any] = {}
        if transition.needs_reason:
            label = "the information asked for" if move is Move.add_information else "your reasons"
            reason = _text(reason, label, "reason")
        if move is Move.submit:
            assert profile is not None, "a submission carries its profile"
            values.update(await _check_profile(case, profile))
        if move is Move.add_information:
            values[AuditCase.information] = reason
        if transition.actor is Actor.assessor:
            values.update(
                {
                    AuditCase.decided_by: by_user_id,
                    AuditCase.decision_reasons: reason,
                    AuditCase.for_moderation: await _for_moderation(case_id),
                    AuditCase.moderated_by: None,
                    AuditCase.moderation_agrees: None,
                }
            )
        if move is Move.extend:
            today = clock.now().date()
            if new_due_on is None or new_due_on <= today:
                raise InvalidInput("Give a new date in the future", field="new_due_on")
            values[AuditCase.due_on] = new_due_on
        if move is Move.lapse:
            await register.move_entry(
                case.entry_id,
                EntryMove.lapse,
                reason=f"CPD audit {case.registration_year}: {reason}",
            )
        values.update({AuditCase.state: transition.to.value, AuditCase.version: case.version + 1})
        await AuditCase.update(values).where(AuditCase.id == case_id)
        await AuditMove.insert(
            AuditMove(
                case=case_id,
                move=move.value,
                from_state=case.state.value,
                to_state=transition.to.value,
                by_user=by_user_id,
                reason=reason,
                moved_at=clock.now().astimezone(UTC),
            )
        )
        await audit.record(
            f"cpd.audit_{move.value}",
            "cpd_audit_case",
            case_id,
            before={"state": case.state.value},
            after={"state": transition.to.value, "reason": reason},
        )
        if move in DECISION_EMAILS:
            await _email_decision(case, move, reason, new_due_on)
        return await get_case(case_id)


async def moderate(case_id: int, *, by_user_id: int, agrees: bool, notes: str) -> CaseRecord:
    """A second assessor's view of a decision; never the assessor who made it, and once."""
    notes = _text(notes, "your notes", "notes")
    async with transaction():
        await lock_row(AuditCase, case_id)
        case = await get_case(case_id)
        if case.decided_by is None or case.state not in {S.met, S.not_met, S.more_information}:
            raise Conflict("Only an assessor's decision can be moderated")
        if case.decided_by == by_user_id:
            raise PermissionDenied("You made this decision, so a second assessor must moderate it")
        if case.moderated_by is not None:
            raise Conflict("This decision has already been moderated")
        await AuditCase.update(
            {
                AuditCase.moderated_by: by_user_id,
                AuditCase.moderation_agrees: agrees,
                AuditCase.moderation_notes: notes,
                AuditCase.version: case.version + 1,
            }
        ).where(AuditCase.id == case_id)
        await audit.record(
            "cpd.audit_moderated",
            "cpd_audit_case",
            case_id,
            after={"agrees": agrees, "notes": notes},
        )
        return await get_case(case_id)


async def _email_decision(
    case: CaseRecord, move: Move, reason: str, new_due_on: date | None
) -> None:
    row = (
        await RegisterEntry.select(
            RegisterEntry.registration_number,
            RegisterEntry.practitioner.given_names.as_alias("given_names"),
            RegisterEntry.practitioner.email.as_alias("email"),
        )
        .where(RegisterEntry.id == case.entry_id)
        .first()
    )
    if row is None or not row["email"]:
        return
    subject, outcome = DECISION_EMAILS[move]
    await notifications.queue_email(
        row["email"],
        "cpd_audit_decision",
        {
            "given_names": row["given_names"],
            "registration_number": row["registration_number"],
            "outcome": outcome.format(due_on=f"{new_due_on:%-d %B %Y}" if new_due_on else ""),
            "reason": reason,
            "path": "/cpd/audit",
        },
        subject=subject,
        key=f"cpd-audit:{case.id}:{move.value}:{case.version}",
    )


async def mark_overdue(today: date) -> int:
    """The daily job's work: every profile still awaited after its date goes to a registrar."""
    rows = await AuditCase.select(AuditCase.id).where(
        (AuditCase.state == S.awaiting_profile.value) & (AuditCase.due_on < today)
    )
    moved = 0
    for row in rows:
        try:
            await perform(row["id"], Move.overdue, by_user_id=None, reason="Not submitted in time")
        except Conflict:  # submitted, or moved by another run, since the list was read
            continue
        moved += 1
    return moved


# --- the queues ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """A case as a queue shows it: whose, which year, where it is and by when."""

    id: int
    name: str
    registration_number: str
    registration_year: int
    state: AuditCaseState
    due_on: date
    submitted: bool
    for_moderation: bool
    moderated: bool
    decided_by: int | None

    @property
    def overdue(self) -> bool:
        return self.state is S.overdue or (
            self.state is S.awaiting_profile and self.due_on < clock.now().date()
        )


async def _listed(where: Any) -> list[Listed]:
    rows = (
        await AuditCase.select(
            AuditCase.id,
            AuditCase.registration_year,
            AuditCase.state,
            AuditCase.due_on,
            AuditCase.submitted_at,
            AuditCase.for_moderation,
            AuditCase.moderated_by,
            AuditCase.decided_by,
            AuditCase.entry.registration_number.as_alias("registration_number"),
            AuditCase.practitioner.given_names.as_alias("given_names"),
            AuditCase.practitioner.family_name.as_alias("family_name"),
        )
        .where(where)
        .order_by(AuditCase.due_on)
        .order_by(AuditCase.id)
    )
    return [
        Listed(
            id=row["id"],
            name=f"{row['given_names']} {row['family_name']}",
            registration_number=row["registration_number"],
            registration_year=row["registration_year"],
            state=AuditCaseState(row["state"]),
            due_on=packs.as_date(row["due_on"]),
            submitted=row["submitted_at"] is not None,
            for_moderation=bool(row["for_moderation"]),
            moderated=row["moderated_by"] is not None,
            decided_by=row["decided_by"],
        )
        for row in rows
    ]


async def listed_case(case_id: int) -> Listed:
    found = await _listed(AuditCase.id == case_id)
    if not found:
        raise NotFound(NOT_FOUND)
    return found[0]


async def queue(*, state: AuditCaseState | None = None, overdue: bool = False) -> list[Listed]:
    """The assessors' queue, soonest due first: every case, or those in ``state``; with
    ``overdue``, only profiles past their date (still awaited, or referred as overdue)."""
    where: Any = AuditCase.id > 0
    if state is not None:
        where &= AuditCase.state == state.value
    if overdue:
        where &= (AuditCase.state == S.overdue.value) | (
            (AuditCase.state == S.awaiting_profile.value) & (AuditCase.due_on < clock.now().date())
        )
    return await _listed(where)


async def moderation_queue() -> list[Listed]:
    """Assessors' decisions chosen for moderation and not yet moderated."""
    return await _listed(
        AuditCase.for_moderation.eq(True)
        & AuditCase.moderated_by.is_null()
        & AuditCase.decided_by.is_not_null()
        & AuditCase.state.is_in([S.met.value, S.not_met.value, S.more_information.value])
    )


async def registrar_queue() -> list[Listed]:
    """Cases referred to a registrar: not submitted in time, or not meeting the standards."""
    return await _listed(AuditCase.state.is_in([S.not_met.value, S.overdue.value]))


async def moves_of(case_id: int) -> list[dict[str, Any]]:
    """The case's history, oldest first: each move, when, and why."""
    return list(
        await AuditMove.select(
            AuditMove.move, AuditMove.to_state, AuditMove.reason, AuditMove.moved_at
        )
        .where(AuditMove.case == case_id)
        .order_by(AuditMove.id)
    )


# --- statistics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class YearStatistics:
    registration_year: int
    eligible: int
    sampled: int
    submitted: int
    on_time: int
    met: int
    not_met: int
    outcomes: dict[str, int]  # state -> cases now in it


async def statistics() -> list[YearStatistics]:
    """Per year, newest first, from grouped counts in the database."""
    samples = await AuditSample.select(
        AuditSample.id, AuditSample.registration_year, AuditSample.eligible_count
    ).order_by(AuditSample.registration_year, ascending=False)
    found = []
    for sample in samples:
        cases = await AuditCase.select(
            AuditCase.state, AuditCase.submitted_at, AuditCase.due_on
        ).where(AuditCase.sample == sample["id"])
        submitted = [case for case in cases if case["submitted_at"] is not None]
        on_time = [
            case
            for case in submitted
            if case["submitted_at"].date() <= packs.as_date(case["due_on"])
        ]
        outcomes: dict[str, int] = {}
        for case in cases:
            outcomes[case["state"]] = outcomes.get(case["state"], 0) + 1
        # Each case's latest assessment, whatever happened after it (advice, lapse, more time).
        assessed: dict[int, str] = {}
        for decided in (
            await AuditMove.select(AuditMove.case, AuditMove.move)
            .where(
                AuditMove.case.sample == sample["id"],
                AuditMove.move.is_in([Move.meets.value, Move.does_not_meet.value]),
            )
            .order_by(AuditMove.id)
        ):
            assessed[decided["case"]] = decided["move"]
        found.append(
            YearStatistics(
                registration_year=sample["registration_year"],
                eligible=sample["eligible_count"],
                sampled=len(cases),
                submitted=len(submitted),
                on_time=len(on_time),
                met=sum(move == Move.meets.value for move in assessed.values()),
                not_met=sum(move == Move.does_not_meet.value for move in assessed.values()),
                outcomes=outcomes,
            )
        )
    return found
