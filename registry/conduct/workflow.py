"""A fitness to practise case's workflow: the table of the moves a case may make (:data:`MOVES`)
and the one function that makes a move (:func:`perform`). No HTTP here.

::

    received --start_triage--> triage --close_outside_remit / close_no_further_action--> closed
                                      --open_investigation--> investigation (notice; 28 days)
    investigation --refer_to_case_examiners--> case_examiners (two examiners decide jointly)
    case_examiners --no_case_to_answer / give_advice--> closed
                   --give_warning--> decided
                   --propose_accepted_outcome--> accepted_outcome (28 days to accept)
                   --refer_to_hearing--> hearing
    accepted_outcome --accept_outcome--> sanction_in_force (at once: agreed, nothing to appeal)
                     --reject_outcome / outcome_not_accepted_in_time--> hearing
    hearing --schedule_hearing--> hearing;  --not_impaired / impaired--> decided
    decided (28-day appeal period) --sanction_takes_effect--> sanction_in_force
                                   --close_after_appeal_period--> closed (nothing imposed)
    sanction_in_force --begin_review--> review --review_extend / review_vary /
        review_no_change--> sanction_in_force;  --review_revoke--> closed
    sanction_in_force --close_case--> closed (the sanction has ended, or is a removal)

Every move is a conditional update of the case (``WHERE version = <the version the mover saw>
AND stage IN <where the move starts>``) and a case event (actor, time, reason, documents) in one
transaction with everything the move causes: a sanction, the register's rewrite of the entry
when an order takes effect at once, emails through the outbox, the audit entry. Two staff moving
one case at once: one update matches, the other matches nothing and is refused (409).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from registry.accounts.roles import Role
from registry.accounts.tables import User, UserRole
from registry.audit import service as audit
from registry.audit.context import current_actor
from registry.conduct import limits, sanctions
from registry.conduct.sanctions import Terms
from registry.conduct.tables import (
    STAGE_LABELS,
    Case,
    CaseDocument,
    InterimOrder,
    Sanction,
    SanctionKind,
    Stage,
)
from registry.core import clock
from registry.db import fetch_one, transaction
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.notifications import service as notifications
from registry.register import service as register
from registry.register.tables import EntryState, EvidenceFile, RegisterEntry

S = Stage
NOT_FOUND = "There is no such fitness to practise case"
CASEWORKER = frozenset({Role.caseworker})
EXAMINER = frozenset({Role.case_examiner})
ADJUDICATOR = frozenset({Role.adjudicator})
PRACTITIONER = frozenset({Role.practitioner})


class Move(StrEnum):
    start_triage = "start_triage"
    close_outside_remit = "close_outside_remit"
    close_no_further_action = "close_no_further_action"
    open_investigation = "open_investigation"
    refer_to_case_examiners = "refer_to_case_examiners"
    no_case_to_answer = "no_case_to_answer"
    give_advice = "give_advice"
    give_warning = "give_warning"
    propose_accepted_outcome = "propose_accepted_outcome"
    refer_to_hearing = "refer_to_hearing"
    accept_outcome = "accept_outcome"
    reject_outcome = "reject_outcome"
    outcome_not_accepted_in_time = "outcome_not_accepted_in_time"
    schedule_hearing = "schedule_hearing"
    not_impaired = "not_impaired"
    impaired = "impaired"
    sanction_takes_effect = "sanction_takes_effect"
    close_after_appeal_period = "close_after_appeal_period"
    begin_review = "begin_review"
    review_extend = "review_extend"
    review_vary = "review_vary"
    review_no_change = "review_no_change"
    review_revoke = "review_revoke"
    close_case = "close_case"


class Need(StrEnum):
    """What a move must carry."""

    reason = "reason"
    examiners = "examiners"  # the two case examiners deciding jointly
    terms = "terms"  # a sanction's terms
    hearing = "hearing"  # date, panel of three, venue or remote


class Mark(StrEnum):
    """The timeliness figure a move reaches."""

    triage = "triage"
    examiners = "examiners"
    final = "final"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[Stage]
    to: Stage
    roles: frozenset[Role]  # who may make it (object checks aside)
    needs: frozenset[Need]
    label: str  # what the timeline calls it
    sanctions: frozenset[SanctionKind] = frozenset()  # what a decision here may impose
    system: bool = False  # the scheduled job may make it too, when its date has come
    mark: Mark | None = None


def _t(
    allowed_from: set[Stage],
    to: Stage,
    roles: frozenset[Role],
    needs: set[Need],
    label: str,
    **more: Any,
) -> Transition:
    return Transition(frozenset(allowed_from), to, roles, frozenset(needs), label, **more)


R, EX, TM, HE = Need.reason, Need.examiners, Need.terms, Need.hearing
HEARING_SANCTIONS = frozenset(
    {SanctionKind.warning, SanctionKind.conditions, SanctionKind.suspension, SanctionKind.removal}
)
REVIEWABLE = frozenset({SanctionKind.warning, SanctionKind.conditions, SanctionKind.suspension})

MOVES: dict[Move, Transition] = {
    Move.start_triage: _t({S.received}, S.triage, CASEWORKER, set(), "Triage started"),
    Move.close_outside_remit: _t(
        {S.triage}, S.closed, CASEWORKER, {R}, "Closed: outside our remit", mark=Mark.triage
    ),
    Move.close_no_further_action: _t(
        {S.triage}, S.closed, CASEWORKER, {R}, "Closed: no further action", mark=Mark.triage
    ),
    Move.open_investigation: _t(
        {S.triage},
        S.investigation,
        CASEWORKER,
        {R},
        "Investigation opened; practitioner notified",
        mark=Mark.triage,
    ),
    Move.refer_to_case_examiners: _t(
        {S.investigation}, S.case_examiners, CASEWORKER, {R}, "Referred to case examiners"
    ),
    Move.no_case_to_answer: _t(
        {S.case_examiners},
        S.closed,
        EXAMINER,
        {R, EX},
        "Case examiners: no case to answer",
        mark=Mark.examiners,
    ),
    Move.give_advice: _t(
        {S.case_examiners},
        S.closed,
        EXAMINER,
        {R, EX, TM},
        "Case examiners: advice given",
        sanctions=frozenset({SanctionKind.advice}),
        mark=Mark.examiners,
    ),
    Move.give_warning: _t(
        {S.case_examiners},
        S.decided,
        EXAMINER,
        {R, EX, TM},
        "Case examiners: warning",
        sanctions=frozenset({SanctionKind.warning}),
        mark=Mark.examiners,
    ),
    Move.propose_accepted_outcome: _t(
        {S.case_examiners},
        S.accepted_outcome,
        EXAMINER,
        {R, EX, TM},
        "Case examiners: accepted outcome proposed",
        sanctions=frozenset({SanctionKind.advice}) | HEARING_SANCTIONS,
        mark=Mark.examiners,
    ),
    Move.refer_to_hearing: _t(
        {S.case_examiners},
        S.hearing,
        EXAMINER,
        {R, EX},
        "Case examiners: referred to a hearing",
        mark=Mark.examiners,
    ),
    Move.accept_outcome: _t(
        {S.accepted_outcome},
        S.sanction_in_force,
        PRACTITIONER,
        set(),
        "Practitioner accepted the outcome",
        mark=Mark.final,
    ),
    Move.reject_outcome: _t(
        {S.accepted_outcome}, S.hearing, PRACTITIONER, set(), "Practitioner rejected the outcome"
    ),
    Move.outcome_not_accepted_in_time: _t(
        {S.accepted_outcome},
        S.hearing,
        CASEWORKER,
        set(),
        "Outcome not accepted in time: sent to a hearing",
        system=True,
    ),
    Move.schedule_hearing: _t({S.hearing}, S.hearing, CASEWORKER, {HE}, "Hearing scheduled"),
    Move.not_impaired: _t(
        {S.hearing}, S.decided, ADJUDICATOR, {R}, "Hearing: not impaired", mark=Mark.final
    ),
    Move.impaired: _t(
        {S.hearing},
        S.decided,
        ADJUDICATOR,
        {R, TM},
        "Hearing: impaired, sanction imposed",
        sanctions=HEARING_SANCTIONS,
        mark=Mark.final,
    ),
    Move.sanction_takes_effect: _t(
        {S.decided},
        S.sanction_in_force,
        CASEWORKER,
        set(),
        "Appeal period over: sanction in force",
        system=True,
    ),
    Move.close_after_appeal_period: _t(
        {S.decided}, S.closed, CASEWORKER, set(), "Appeal period over: closed", system=True
    ),
    Move.begin_review: _t(
        {S.sanction_in_force}, S.review, CASEWORKER, {R}, "Sanction review started"
    ),
    Move.review_extend: _t(
        {S.review},
        S.sanction_in_force,
        ADJUDICATOR,
        {R, TM},
        "Review: sanction extended",
        sanctions=REVIEWABLE,
    ),
    Move.review_vary: _t(
        {S.review},
        S.sanction_in_force,
        ADJUDICATOR,
        {R, TM},
        "Review: sanction varied",
        sanctions=REVIEWABLE,
    ),
    Move.review_no_change: _t(
        {S.review}, S.sanction_in_force, ADJUDICATOR, {R}, "Review: no change"
    ),
    Move.review_revoke: _t({S.review}, S.closed, ADJUDICATOR, {R}, "Review: sanction revoked"),
    Move.close_case: _t(
        {S.sanction_in_force}, S.closed, CASEWORKER, set(), "Sanction ended: closed", system=True
    ),
}

# What each move tells the practitioner (subject, what happened), when they are on the register.
PRACTITIONER_EMAILS: dict[Move, tuple[str, str]] = {
    Move.open_investigation: (
        "A concern about your practice is being investigated",
        "We have opened an investigation into a concern about your practice. You have until "
        "{due_on} to respond.",
    ),
    Move.propose_accepted_outcome: (
        "The case examiners propose an outcome for you to accept",
        "The case examiners propose: {terms}. Accept or reject it by {due_on}; if you reject it "
        "or do not answer, your case goes to a hearing.",
    ),
    Move.refer_to_hearing: (
        "Your case has been referred to a hearing",
        "The case examiners have referred your case to a hearing. We will tell you its date.",
    ),
    Move.schedule_hearing: (
        "The date of your hearing",
        "Your hearing is on {hearing_on}.",
    ),
    Move.no_case_to_answer: (
        "Your case is closed",
        "The case examiners decided there is no case to answer. Your case is closed.",
    ),
    Move.give_advice: ("Advice from the case examiners", "The case examiners give you advice."),
    Move.give_warning: ("The case examiners' decision", "The case examiners decided: {terms}."),
    Move.not_impaired: (
        "The outcome of your hearing",
        "The panel found your fitness to practise is not impaired.",
    ),
    Move.impaired: ("The outcome of your hearing", "The panel decided: {terms}."),
}


# --- who is moving --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mover:
    """Who makes a move: a user with their roles, or the scheduled job."""

    user_id: int | None
    roles: frozenset[Role] = frozenset()
    system: bool = False


SYSTEM = Mover(None, system=True)


@dataclass(frozen=True)
class Hearing:
    on: date
    panel: tuple[str, ...]
    venue: str = ""
    remote: bool = False
    private: bool = False


@dataclass(frozen=True)
class MoveIn:
    """What a move carries; which parts it needs is in its :class:`Transition`."""

    reason: str = ""
    examiners: tuple[int, ...] = ()
    terms: Terms | None = None
    hearing: Hearing | None = None
    documents: tuple[int, ...] = ()  # evidence files attached to the event


# --- reading a case -------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRecord:
    id: int
    reference: str
    entry_id: int | None
    needs_identifying: bool
    stage: Stage
    outcome: str
    assigned_to: int | None
    opened_at: datetime
    stage_changed_at: datetime
    due_on: date | None
    due_what: str
    notice_text: str
    responded_at: datetime | None
    response_text: str
    proposal: Terms | None
    hearing_on: date | None
    hearing_panel: list[str]
    hearing_venue: str
    hearing_remote: bool
    hearing_private: bool
    version: int
    triage_decided_at: datetime | None = None
    examiners_decided_at: datetime | None = None
    final_decided_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]

    def overdue(self, today: date) -> bool:
        return self.due_on is not None and self.due_on < today


def case_from_row(row: Mapping[str, Any]) -> CaseRecord:
    return CaseRecord(
        id=row["id"],
        reference=row["reference"],
        entry_id=row["entry"],
        needs_identifying=bool(row["needs_identifying"]),
        stage=Stage(row["stage"]),
        outcome=row["outcome"],
        assigned_to=row["assigned_to"],
        opened_at=row["opened_at"],
        stage_changed_at=row["stage_changed_at"],
        due_on=_as_date(row["due_on"]),
        due_what=row["due_what"],
        notice_text=row["notice_text"],
        responded_at=row["responded_at"],
        response_text=row["response_text"],
        proposal=Terms.from_json(row["proposal"]) if row["proposal"] else None,
        hearing_on=_as_date(row["hearing_on"]),
        hearing_panel=list(json.loads(row["hearing_panel"] or "[]")),
        hearing_venue=row["hearing_venue"],
        hearing_remote=bool(row["hearing_remote"]),
        hearing_private=bool(row["hearing_private"]),
        version=row["version"],
        triage_decided_at=row["triage_decided_at"],
        examiners_decided_at=row["examiners_decided_at"],
        final_decided_at=row["final_decided_at"],
    )


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


async def get_case(case_id: int) -> CaseRecord:
    row = await Case.select().where(Case.id == case_id).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return case_from_row(row)


def allowed_moves(case: CaseRecord, mover: Mover) -> list[Move]:
    """The moves ``mover`` may make on the case where it is now, in the table's order."""
    return [
        move
        for move, transition in MOVES.items()
        if case.stage in transition.allowed_from
        and (transition.roles & mover.roles or (mover.system and transition.system))
    ]


class MoveRefused(Conflict):
    """A move the machine does not allow from where the case is; ``allowed`` lists those it
    does allow this mover (the API answers 409 with them)."""

    def __init__(self, detail: str, allowed: Sequence[Move]) -> None:
        super().__init__(detail)
        self.allowed = [move.value for move in allowed]


def _refused(case: CaseRecord, move: Move, mover: Mover) -> MoveRefused:
    allowed = allowed_moves(case, mover)
    offer = (
        f"Moves you can make now: {', '.join(allowed)}."
        if allowed
        else "You can make no move on it now."
    )
    return MoveRefused(
        f"Case {case.reference} is at '{case.stage_label}', so it cannot make the move "
        f"'{move.value}'. {offer}",
        allowed,
    )


def _changed_since(case: CaseRecord) -> Conflict:
    return Conflict(
        f"Case {case.reference} has changed since you opened it: it is now at "
        f"'{case.stage_label}'. Look at it again before you decide."
    )


# --- making a move --------------------------------------------------------------------------


def _text(value: str, what: str, field: str, *, needed: bool = True) -> str:
    value = value.strip()
    if needed and not value:
        raise InvalidInput(f"Enter {what}", field=field)
    if len(value) > limits.MAX_TEXT:
        raise InvalidInput(f"{what.capitalize()} must be 10,000 characters or fewer", field=field)
    return value


async def _practitioner_account(entry_id: int | None) -> int | None:
    if entry_id is None:
        return None
    row = (
        await RegisterEntry.select(RegisterEntry.practitioner.account.as_alias("account"))
        .where(RegisterEntry.id == entry_id)
        .first()
    )
    return None if row is None else row["account"]


async def check_examiners(examiners: Sequence[int], mover: Mover) -> list[int]:
    """Two different case examiners, one of them whoever records the decision."""
    chosen = list(dict.fromkeys(examiners))
    if len(chosen) != limits.EXAMINERS:
        raise InvalidInput(
            "A case examiners' decision is made by two case examiners: name both",
            field="examiners",
        )
    if mover.user_id not in chosen:
        raise InvalidInput(
            "You can only record a decision you made: name yourself as one of the two",
            field="examiners",
        )
    holding = await UserRole.select(UserRole.user).where(
        UserRole.user.is_in(chosen) & (UserRole.role == Role.case_examiner.value)
    )
    if {row["user"] for row in holding} != set(chosen):
        raise InvalidInput("Both examiners must be case examiners", field="examiners")
    return chosen


def _check_hearing(hearing: Hearing | None, today: date) -> Hearing:
    if hearing is None:
        raise InvalidInput("Give the hearing's date, panel and venue", field="hearing_on")
    if hearing.on < today:
        raise InvalidInput("A hearing cannot be scheduled in the past", field="hearing_on")
    panel = tuple(name.strip() for name in hearing.panel if name.strip())
    if len(panel) != limits.PANEL_SIZE or len(set(panel)) != limits.PANEL_SIZE:
        raise InvalidInput(
            f"Name the {limits.PANEL_SIZE} different members of the panel", field="panel"
        )
    if any(len(name) > 120 for name in panel):
        raise InvalidInput("A panel member's name must be 120 characters or fewer", field="panel")
    venue = hearing.venue.strip()
    if not hearing.remote and not venue:
        raise InvalidInput("Give the venue, or say the hearing is held remotely", field="venue")
    if len(venue) > 200:
        raise InvalidInput("The venue must be 200 characters or fewer", field="venue")
    return Hearing(hearing.on, panel, venue, hearing.remote, hearing.private)


async def _documents(document_ids: Sequence[int]) -> list[int]:
    chosen = list(dict.fromkeys(document_ids))
    if chosen:
        found = await EvidenceFile.select(EvidenceFile.id).where(EvidenceFile.id.is_in(chosen))
        if len(found) != len(chosen):
            raise InvalidInput("A document named is not an uploaded file", field="documents")
    return chosen


async def sanction_of(case_id: int) -> dict[str, Any] | None:
    """The case's latest sanction, if it has one."""
    row = (
        await Sanction.select()
        .where(Sanction.case == case_id)
        .order_by(Sanction.id, ascending=False)
        .first()
    )
    return dict(row) if row else None


async def perform(
    case_id: int,
    move: Move,
    *,
    by: Mover,
    version: int | None,
    data: MoveIn | None = None,
) -> CaseRecord:
    """Make ``move`` on the case as ``by`` saw it (``version``; None only for the system), or
    refuse it changing nothing: 403 for a role the move is not for, 404 for a practitioner's
    move on someone else's case, 409 for a move not allowed from the case's stage (with the
    moves that are) or a case changed since ``version``, 422 for what the move needs missing
    or out of limits."""
    data = data or MoveIn()
    transition = MOVES[move]
    today = clock.now().date()
    moment = clock.now().astimezone(UTC)
    async with transaction():
        case = await get_case(case_id)
        if Role.practitioner in transition.roles & by.roles:
            if await _practitioner_account(case.entry_id) != by.user_id or by.user_id is None:
                raise NotFound(NOT_FOUND)
        elif not (transition.roles & by.roles or (by.system and transition.system)):
            raise PermissionDenied(
                f"The move '{move.value}' is for "
                f"{', '.join(sorted(role.value for role in transition.roles))} only"
            )
        if version is not None and version != case.version:
            raise _changed_since(case)
        if case.stage not in transition.allowed_from:
            raise _refused(case, move, by)
        values: dict[Any, Any] = {}
        details: dict[str, Any] = {}
        reason = _text(data.reason, "the reason", "reason", needed=Need.reason in transition.needs)
        if Need.examiners in transition.needs:
            details["examiners"] = await check_examiners(data.examiners, by)
        terms: Terms | None = None
        if Need.terms in transition.needs:
            if data.terms is None:
                raise InvalidInput("Give the sanction's terms", field="kind")
            terms = sanctions.check_terms(data.terms, transition.sanctions)
            details["terms"] = json.loads(terms.to_json())
        documents = await _documents(data.documents)
        if documents:
            details["documents"] = documents
        values.update(await _guard(case, move, today, terms, data, details))
        if transition.mark is Mark.triage:
            values[Case.triage_decided_at] = moment
        elif transition.mark is Mark.examiners:
            values[Case.examiners_decided_at] = moment
        if transition.mark is Mark.final or transition.to is Stage.closed:
            values.setdefault(Case.final_decided_at, moment)
        if transition.to is not case.stage:
            values[Case.stage_changed_at] = moment
        if transition.to is Stage.closed:
            values[Case.outcome] = move.value
            values.setdefault(Case.due_on, None)
            values.setdefault(Case.due_what, "")
        updated = (
            await Case.update(
                {**values, Case.stage: transition.to.value, Case.version: Case.version + 1}
            )
            .where(
                (Case.id == case_id)
                & (Case.version == case.version)
                & Case.stage.is_in([stage.value for stage in transition.allowed_from])
            )
            .returning(Case.id)
        )
        if not updated:  # another move got there first
            raise _changed_since(await get_case(case_id))
        await add_event(
            case_id,
            move.value,
            case.stage,
            transition.to,
            by=by,
            reason=reason,
            details=details,
        )
        for file_id in documents:
            await CaseDocument.insert(
                CaseDocument(
                    case=case_id,
                    file=file_id,
                    kind="decision" if transition.sanctions else "other",
                    disclosed=False,
                    added_by=by.user_id,
                    added_at=moment,
                )
            )
        await _consequences(case, move, terms, reason, by, today, moment)
        await audit.record(
            f"conduct.case_{move.value}",
            "conduct_case",
            case.reference,
            before={"stage": case.stage.value},
            after={"stage": transition.to.value, "reason": reason},
        )
        after = await get_case(case_id)
        await _email_practitioner(after, move, terms)
        return after


INSERT_EVENT = (
    'INSERT INTO conduct_case_event ("case", event, from_stage, to_stage, by_user, actor_label,'
    " at, reason, details) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})"
)


async def add_event(
    case_id: int,
    event: str,
    from_stage: Stage | None,
    to_stage: Stage | None,
    *,
    by: Mover,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    # Straight to the connection (no query object): every move and every concern adds one.
    await fetch_one(
        INSERT_EVENT,
        *event_values(case_id, event, from_stage, to_stage, by=by, reason=reason, details=details),
    )


def event_values(
    case_id: int,
    event: str,
    from_stage: Stage | None,
    to_stage: Stage | None,
    *,
    by: Mover,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
) -> tuple[Any, ...]:
    """The arguments of :data:`INSERT_EVENT` for one event (for a statement that adds it with
    other rows)."""
    return (
        case_id,
        event,
        from_stage.value if from_stage else "",
        to_stage.value if to_stage else "",
        by.user_id,
        "system" if by.system else current_actor().label,
        clock.now().astimezone(UTC),
        reason,
        json.dumps(dict(details or {}), sort_keys=True, default=str),
    )


async def _guard(
    case: CaseRecord,
    move: Move,
    today: date,
    terms: Terms | None,
    data: MoveIn,
    details: dict[str, Any],
) -> dict[Any, Any]:
    """The rules of a move beyond the stage it starts from, and what it sets on the case."""
    if move is Move.open_investigation:
        if case.entry_id is None:
            raise Conflict(
                "Identify the practitioner this case is about before opening an investigation"
            )
        due = today + timedelta(days=limits.RESPONSE_DAYS)
        return {
            Case.notice_text: data.reason.strip(),
            Case.due_on: due,
            Case.due_what: "The practitioner's response to the notice",
        }
    if move is Move.refer_to_case_examiners:
        if case.responded_at is None and case.due_on is not None and case.due_on >= today:
            raise Conflict(
                f"The practitioner has until {case.due_on:%-d %B %Y} to respond: refer the case "
                "once they have, or once that day has passed"
            )
        return {Case.due_on: None, Case.due_what: ""}
    if move is Move.propose_accepted_outcome:
        assert terms is not None
        due = today + timedelta(days=limits.ACCEPTANCE_DAYS)
        return {
            Case.proposal: terms.to_json(),
            Case.due_on: due,
            Case.due_what: "The practitioner's answer to the proposed outcome",
        }
    if move is Move.outcome_not_accepted_in_time and case.due_on and case.due_on >= today:
        raise Conflict(f"The practitioner has until {case.due_on:%-d %B %Y} to answer")
    if move in (Move.reject_outcome, Move.outcome_not_accepted_in_time, Move.refer_to_hearing):
        return {Case.due_on: None, Case.due_what: "A hearing date to be set"}
    if move is Move.accept_outcome:
        if case.due_on is not None and case.due_on < today:
            raise Conflict(
                "The time to accept this outcome has passed: your case goes to a hearing"
            )
        assert case.proposal is not None
        end = sanctions.ends_on(today, case.proposal.months)
        return {Case.due_on: end, Case.due_what: "The sanction ends" if end else ""}
    if move is Move.schedule_hearing:
        hearing = _check_hearing(data.hearing, today)
        details["hearing"] = {
            "on": hearing.on.isoformat(),
            "panel": list(hearing.panel),
            "venue": hearing.venue,
            "remote": hearing.remote,
            "private": hearing.private,
        }
        return {
            Case.hearing_on: hearing.on,
            Case.hearing_panel: json.dumps(list(hearing.panel)),
            Case.hearing_venue: hearing.venue,
            Case.hearing_remote: hearing.remote,
            Case.hearing_private: hearing.private,
            Case.due_on: hearing.on,
            Case.due_what: "The hearing",
        }
    if move in (Move.not_impaired, Move.impaired):
        if case.hearing_on is None or case.hearing_on > today:
            raise Conflict("The panel decides at the hearing: schedule it, and decide on its day")
        return {
            Case.due_on: _appeal_ends(today),
            Case.due_what: "The end of the appeal period",
        }
    if move is Move.give_warning:
        return {
            Case.due_on: _appeal_ends(today),
            Case.due_what: "The end of the appeal period",
        }
    if move in (Move.sanction_takes_effect, Move.close_after_appeal_period):
        if case.due_on is not None and case.due_on >= today:
            raise Conflict(f"The appeal period runs until {case.due_on:%-d %B %Y}")
        has_sanction = await _has_restricting_sanction(case.id)
        if has_sanction != (move is Move.sanction_takes_effect):
            raise Conflict(
                "This decision imposed a sanction: it takes effect"
                if has_sanction
                else "This decision imposed no sanction: close the case"
            )
        sanction = await sanction_of(case.id)
        end = _as_date(sanction["ends_on"]) if sanction else None
        return {Case.due_on: end, Case.due_what: "The sanction ends" if end else ""}
    if move in (Move.begin_review, Move.close_case):
        sanction = await sanction_of(case.id)
        if sanction is None:
            raise Conflict("This case has no sanction")
        in_force = _in_force(sanction, today)
        if move is Move.begin_review and not in_force:
            raise Conflict("Only a sanction in force can be reviewed")
        if move is Move.close_case and in_force and sanction["kind"] in sanctions.ENDING:
            raise Conflict("The sanction is still in force: review it, or close it when it ends")
        return {}
    if move in (Move.review_extend, Move.review_vary):
        return await _review_terms(case, move, terms, today, details)
    return {}


def _appeal_ends(today: date) -> date:
    """The appeal period's last day: a sanction decided today takes effect the day after."""
    return sanctions.starts_on(today, immediate=False) - timedelta(days=1)


async def _has_restricting_sanction(case_id: int) -> bool:
    return await Sanction.exists().where(
        (Sanction.case == case_id) & Sanction.kind.is_in([k.value for k in sanctions.ORDERS])
    )


def _in_force(sanction: Mapping[str, Any], today: date) -> bool:
    starts = _as_date(sanction["starts_on"])
    ends = _as_date(sanction["ends_on"])
    revoked = _as_date(sanction["revoked_on"])
    return (
        starts is not None
        and starts <= today
        and (ends is None or today <= ends)
        and (revoked is None or today < revoked)
    )


async def _review_terms(
    case: CaseRecord, move: Move, terms: Terms | None, today: date, details: dict[str, Any]
) -> dict[Any, Any]:
    """A review's new terms for the sanction in force: the same kind, its length counted from
    when it first took effect and within the kind's limits; an extension must end later."""
    assert terms is not None
    sanction = await sanction_of(case.id)
    if sanction is None or not _in_force(sanction, today):
        raise Conflict("There is no sanction in force to review")
    if terms.kind.value != sanction["kind"]:
        raise InvalidInput(
            "A review keeps the kind of sanction: revoke it and decide again to change it",
            field="kind",
        )
    starts = _as_date(sanction["starts_on"])
    assert starts is not None
    new_end = sanctions.ends_on(starts, terms.months)
    old_end = _as_date(sanction["ends_on"])
    if move is Move.review_extend and (new_end is None or old_end is None or new_end <= old_end):
        raise InvalidInput(
            "An extension must end later than the sanction does now (its length counts from "
            f"{starts:%-d %B %Y})",
            field="months",
        )
    if new_end is not None and new_end < today:
        raise InvalidInput("The sanction would already have ended", field="months")
    details["sanction"] = sanction["id"]
    details["ends_on"] = new_end.isoformat() if new_end else None
    await Sanction.update(
        {
            Sanction.ends_on: new_end,
            Sanction.conditions: terms.conditions,
            Sanction.summary: terms.summary,
        }
    ).where(Sanction.id == sanction["id"])
    return {Case.due_on: new_end, Case.due_what: "The sanction ends"}


async def _consequences(
    case: CaseRecord,
    move: Move,
    terms: Terms | None,
    reason: str,
    by: Mover,
    today: date,
    moment: datetime,
) -> None:
    """What a move does beyond the case: the sanction it imposes, and the register's entry
    rewritten, in this transaction, when an order takes effect or ends today."""
    entry_id = case.entry_id
    if MOVES[move].to in (Stage.closed, Stage.sanction_in_force) and entry_id is not None:
        # The case's final outcome replaces any interim order still in force.
        ended = (
            await InterimOrder.update({InterimOrder.revoked_on: today})
            .where(
                (InterimOrder.case == case.id)
                & InterimOrder.revoked_on.is_null()
                & (InterimOrder.ends_on >= today)
            )
            .returning(InterimOrder.id)
        )
        if ended:
            await register.refresh_entry(entry_id, today)
    if move in (Move.give_advice, Move.give_warning, Move.impaired) and terms is not None:
        assert entry_id is not None
        await _impose(case, entry_id, terms, move, by, today, moment)
    elif move is Move.accept_outcome and case.proposal is not None:
        assert entry_id is not None
        agreed = Terms(
            case.proposal.kind,
            case.proposal.months,
            case.proposal.conditions,
            case.proposal.summary,
            immediate=True,  # agreed: nothing to appeal
        )
        await _impose(case, entry_id, agreed, move, by, today, moment)
    elif move is Move.review_revoke:
        sanction = await sanction_of(case.id)
        if sanction is not None:
            await Sanction.update({Sanction.revoked_on: today}).where(Sanction.id == sanction["id"])
            assert entry_id is not None
            await register.refresh_entry(entry_id, today)
    elif move in (Move.review_extend, Move.review_vary):
        assert entry_id is not None
        await register.refresh_entry(entry_id, today)
    elif move is Move.sanction_takes_effect and entry_id is not None:
        # Made by hand once the appeal period is over: the entry shows the order now, not when
        # the hourly job next comes round (which then finds nothing left to change).
        sanction = await sanction_of(case.id)
        if sanction is not None:
            await take_effect(entry_id, SanctionKind(sanction["kind"]), case.reference, today)


async def _impose(
    case: CaseRecord,
    entry_id: int,
    terms: Terms,
    move: Move,
    by: Mover,
    today: date,
    moment: datetime,
) -> None:
    starts = sanctions.starts_on(today, terms.immediate)
    await Sanction.insert(
        Sanction(
            case=case.id,
            entry=entry_id,
            kind=terms.kind.value,
            conditions=terms.conditions,
            summary=terms.summary,
            decided_at=moment,
            decided_by=by.user_id,
            decided_by_move=move.value,
            immediate=terms.immediate,
            starts_on=starts,
            ends_on=sanctions.ends_on(starts, terms.months),
        )
    )
    if starts <= today:
        await take_effect(entry_id, terms.kind, case.reference, today)


async def take_effect(entry_id: int, kind: SanctionKind, reference: str, today: date) -> None:
    """An order starting today: a removal moves the entry off the register (the register's
    own move, which bars restoration for five years); anything else rewrites the entry."""
    if kind is SanctionKind.removal:
        entry = await register.get_entry(entry_id)
        if entry.state is not EntryState.removed:
            await register.move_entry(
                entry_id,
                register.EntryMove.removal,
                reason=f"Fitness to practise decision, case {reference}",
            )
        return
    await register.refresh_entry(entry_id, today)


async def _email_practitioner(case: CaseRecord, move: Move, terms: Terms | None) -> None:
    if move not in PRACTITIONER_EMAILS or case.entry_id is None:
        return
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
    subject, message = PRACTITIONER_EMAILS[move]
    shown_terms = terms or case.proposal
    await notifications.queue_email(
        row["email"],
        "conduct_case_update",
        {
            "given_names": row["given_names"],
            "reference": case.reference,
            "message": message.format(
                due_on=f"{case.due_on:%-d %B %Y}" if case.due_on else "",
                terms=shown_terms.label.lower() if shown_terms else "",
                hearing_on=f"{case.hearing_on:%-d %B %Y}" if case.hearing_on else "",
            ),
            "path": "/fitness-to-practise/your-cases",
        },
        subject=subject,
        key=f"conduct-case:{case.id}:{move.value}:{case.version}",
    )


# --- assignment -----------------------------------------------------------------------------


async def assign(case_id: int, caseworker_id: int | None, *, by: Mover, version: int) -> CaseRecord:
    """Give the case to a caseworker (or to nobody), as ``by`` saw it."""
    async with transaction():
        case = await get_case(case_id)
        if version != case.version:
            raise _changed_since(case)
        name = "nobody"
        if caseworker_id is not None:
            holder = (
                await User.select(User.email)
                .where(
                    (User.id == caseworker_id)
                    & User.id.is_in(
                        UserRole.select(UserRole.user).where(UserRole.role == Role.caseworker.value)
                    )
                )
                .first()
            )
            if holder is None:
                raise InvalidInput("Choose a caseworker", field="caseworker_id")
            name = holder["email"]
        if caseworker_id == case.assigned_to:
            raise Conflict("The case is assigned to them already")
        await bump(case, {Case.assigned_to: caseworker_id})
        await add_event(
            case_id, "assigned", None, None, by=by, details={"caseworker": caseworker_id}
        )
        await audit.record(
            "conduct.case_assigned",
            "conduct_case",
            case.reference,
            before={"assigned_to": case.assigned_to},
            after={"assigned_to": caseworker_id, "name": name},
        )
        return await get_case(case_id)


async def bump(case: CaseRecord, values: Mapping[Any, Any]) -> None:
    """Change the case as ``case`` was read (its version), or refuse: someone else did first."""
    updated = (
        await Case.update({**values, Case.version: Case.version + 1})
        .where((Case.id == case.id) & (Case.version == case.version))
        .returning(Case.id)
    )
    if not updated:
        raise _changed_since(await get_case(case.id))
