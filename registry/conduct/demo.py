"""Demo fitness to practise cases: one at every stage of the workflow, a suspended entry, an
entry with conditions and one with a warning, each with its published decision, so a newcomer
sees them on the public register and in the staff's list. Made through the workflow's own
moves, with the clock set back where a case needs time to have passed; only into an empty
set of cases, so ``registry demo`` can be run again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rich.progress import Progress

from registry.accounts import users
from registry.accounts.roles import Role
from registry.audit.context import Actor, acting_as
from registry.conduct import concerns, workflow
from registry.conduct.concerns import ConcernIn
from registry.conduct.sanctions import Terms
from registry.conduct.tables import Case, SanctionKind, Stage
from registry.conduct.workflow import Hearing, Move, MoveIn, Mover
from registry.core import clock
from registry.demo import DemoSummary
from registry.register.tables import EntryState, RegisterEntry

PANEL = ("Helen Carter (chair)", "Dev Sharma (registrant member)", "Ruth Okafor (lay member)")
WHAT = (
    "During a supervision session they disclosed a person on probation's address to a third "
    "party without a lawful reason."
)


async def _staff(email: str) -> Mover | None:
    account = await users.find_account_by_email(email)
    if account is None:
        return None
    return Mover(account.id, frozenset(account.roles))


class Demo:
    def __init__(
        self, caseworker: Mover, examiner: Mover, second: Mover, adjudicator: Mover
    ) -> None:
        self.caseworker, self.examiner, self.second, self.adjudicator = (
            caseworker,
            examiner,
            second,
            adjudicator,
        )

    def by(self, move: Move) -> Mover:
        roles = workflow.MOVES[move].roles
        if Role.case_examiner in roles:
            return self.examiner
        if Role.adjudicator in roles:
            return self.adjudicator
        return self.caseworker

    async def raise_about(self, number: str, category: str, at: datetime) -> int:
        with clock.frozen_at(at):
            raised = await concerns.raise_concern(
                ConcernIn(
                    what_happened=WHAT,
                    relationship="employer",
                    categories=[category],
                    about_number=number,
                    raiser_name="Probation Delivery Unit head",
                    consent_to_share=True,
                )
            )
        return raised.case_id

    async def move(self, case_id: int, move: Move, at: datetime, **data: object) -> None:
        needs = workflow.MOVES[move].needs
        with clock.frozen_at(at):
            case = await workflow.get_case(case_id)
            await workflow.perform(
                case_id,
                move,
                by=self.by(move),
                version=case.version,
                data=MoveIn(
                    reason=str(data.get("reason", "Decided on the evidence in the bundle"))
                    if workflow.Need.reason in needs
                    else "",
                    examiners=(
                        (self.examiner.user_id or 0, self.second.user_id or 0)
                        if workflow.Need.examiners in needs
                        else ()
                    ),
                    terms=data.get("terms"),  # type: ignore[arg-type]
                    hearing=data.get("hearing"),  # type: ignore[arg-type]
                ),
            )


def _terms(kind: SanctionKind, months: int | None, summary: str, conditions: str = "") -> Terms:
    return Terms(kind, months, conditions, summary, immediate=True)


async def _case(demo: Demo, number: str, stage: Stage, now: datetime) -> None:
    """One case brought to ``stage``: received 20 weeks ago, moved on week by week."""
    start = now - timedelta(weeks=20)
    week = timedelta(weeks=1)
    case_id = await demo.raise_about(number, "professional_boundaries", start)
    path: list[tuple[Move, dict[str, object]]] = []
    if stage is not Stage.received:
        path.append((Move.start_triage, {}))
    if stage is Stage.closed:
        path.append((Move.close_no_further_action, {"reason": "No evidence of misconduct"}))
    elif stage is not Stage.received and stage is not Stage.triage:
        path.append(
            (Move.open_investigation, {"reason": "Allegation of a breach of confidentiality"})
        )
    deep = stage not in (Stage.received, Stage.triage, Stage.investigation, Stage.closed)
    if deep:
        path.append((Move.refer_to_case_examiners, {}))
    if stage is Stage.accepted_outcome:
        path.append(
            (
                Move.propose_accepted_outcome,
                {"terms": Terms(SanctionKind.warning, 12, summary="A warning for one year")},
            )
        )
    if stage in (Stage.hearing, Stage.decided, Stage.sanction_in_force, Stage.review):
        path.append((Move.refer_to_hearing, {}))
    at = start + week
    for move, data in path:
        if move is Move.refer_to_case_examiners:
            at = start + timedelta(weeks=7)  # the 28-day response window has passed
        if move is Move.propose_accepted_outcome:
            at = now - timedelta(days=3)  # the practitioner's 28 days still running
        await demo.move(case_id, move, at, **data)
        at += week
    if stage is Stage.hearing:  # listed in three weeks: on the public list of hearings
        await demo.move(
            case_id,
            Move.schedule_hearing,
            now,
            hearing=Hearing(
                now.date() + timedelta(weeks=3), PANEL, "Regulator's hearing centre, Birmingham"
            ),
        )
        return
    if stage in (Stage.decided, Stage.sanction_in_force, Stage.review):
        hearing_day = start + timedelta(weeks=10)
        await demo.move(
            case_id,
            Move.schedule_hearing,
            hearing_day - week,
            hearing=Hearing(hearing_day.date(), PANEL, "", remote=True),
        )
        decided_at = now - timedelta(days=10) if stage is Stage.decided else hearing_day
        await demo.move(
            case_id,
            Move.impaired,
            decided_at,
            terms=_terms(
                SanctionKind.conditions,
                24,
                "Conditions of practice for two years after a breach of confidentiality",
                "Work only under the supervision of a senior probation officer",
            ),
        )
    if stage in (Stage.sanction_in_force, Stage.review):
        await demo.move(case_id, Move.sanction_takes_effect, start + timedelta(weeks=15))
    if stage is Stage.review:
        await demo.move(
            case_id,
            Move.begin_review,
            now - timedelta(days=2),
            reason="Review before the conditions end",
        )


async def _decided(
    demo: Demo, number: str, category: str, terms: Terms, now: datetime, *, examiners: bool
) -> None:
    """A case decided weeks ago whose sanction is in force now: by the case examiners (a
    warning) or at a hearing."""
    start = now - timedelta(weeks=16)
    case_id = await demo.raise_about(number, category, start)
    await demo.move(case_id, Move.start_triage, start + timedelta(days=1))
    await demo.move(case_id, Move.open_investigation, start + timedelta(days=2), reason="Notice")
    await demo.move(case_id, Move.refer_to_case_examiners, start + timedelta(weeks=5))
    if examiners:
        await demo.move(case_id, Move.give_warning, start + timedelta(weeks=6), terms=terms)
    else:
        await demo.move(case_id, Move.refer_to_hearing, start + timedelta(weeks=6))
        hearing_day = start + timedelta(weeks=9)
        await demo.move(
            case_id,
            Move.schedule_hearing,
            start + timedelta(weeks=7),
            hearing=Hearing(hearing_day.date(), PANEL, "Regulator's hearing centre, Leeds"),
        )
        await demo.move(case_id, Move.impaired, hearing_day, terms=terms)
    await demo.move(case_id, Move.sanction_takes_effect, start + timedelta(weeks=14))


async def _numbers(count: int) -> Sequence[str]:
    rows = (
        await RegisterEntry.select(
            RegisterEntry.registration_number, RegisterEntry.practitioner.account.as_alias("a")
        )
        .where(RegisterEntry.state == EntryState.registered.value)
        .order_by(RegisterEntry.id, ascending=False)
        .limit(count * 2)
    )
    return [row["registration_number"] for row in rows if row["a"] is None][:count]


async def seed_demo_conduct(summary: DemoSummary, progress: Progress) -> None:
    existing = await Case.count()
    if existing:
        summary.counts["fitness to practise cases"] = existing
        return
    from registry.accounts.demo import DEMO_PEOPLE  # the demo's logins

    emails = {role: email for role, email, _ in reversed(DEMO_PEOPLE)}  # each role's first
    examiners = [email for role, email, _ in DEMO_PEOPLE if role is Role.case_examiner]
    caseworker = await _staff(emails[Role.caseworker])
    examiner = await _staff(examiners[0])
    second = await _staff(examiners[-1])
    adjudicator = await _staff(emails[Role.adjudicator])
    stages = list(Stage)
    numbers = await _numbers(len(stages) + 3)
    if caseworker is None or examiner is None or second is None or adjudicator is None:
        return  # the accounts domain seeds them first; without them there is no one to decide
    if len(numbers) < len(stages) + 3:
        return
    task = progress.add_task("Demo fitness to practise cases", total=len(stages) + 3)
    now = clock.now()
    with acting_as(Actor(id=None, label="system: demo")):
        demo = Demo(caseworker, examiner, second, adjudicator)
        for stage, number in zip(stages, numbers, strict=False):
            await _case(demo, number, stage, now)
            progress.advance(task)
        suspended, conditions, warned = numbers[len(stages) :]
        await _decided(
            demo,
            suspended,
            "dishonesty",
            _terms(SanctionKind.suspension, 12, "Suspended for a year for falsifying records"),
            now,
            examiners=False,
        )
        progress.advance(task)
        await _decided(
            demo,
            conditions,
            "competence",
            _terms(
                SanctionKind.conditions,
                18,
                "Conditions of practice for 18 months after failures in risk assessment",
                "Complete accredited risk assessment training; monthly supervision reports",
            ),
            now,
            examiners=False,
        )
        progress.advance(task)
        await _decided(
            demo,
            warned,
            "professional_boundaries",
            Terms(SanctionKind.warning, 36, summary="A warning for three years about boundaries"),
            now,
            examiners=True,
        )
        progress.advance(task)
    summary.counts["fitness to practise cases"] = await Case.count()
