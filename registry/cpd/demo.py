"""Demo CPD records: the demo practitioner's log (last year's requirement met, this year's well
under way) and a few activities for some hundreds of others, so the dashboard, the progress
figures and the exports have something to show; and the audit sample of the last closed year,
with two of the chosen profiles submitted, so the assessor's queue has work. Seeded (the same
every time), and only into a log that is empty, so ``registry demo`` can be run again."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from rich.progress import Progress

from registry.accounts import users as accounts
from registry.audit.context import Actor, acting_as
from registry.core import clock
from registry.cpd import activities, audit_workflow, sampling
from registry.cpd.activities import Owner
from registry.cpd.schemas import ActivityIn
from registry.cpd.tables import Activity, ActivityType, AuditCase, Standard
from registry.db import transaction
from registry.demo import DemoSummary
from registry.register.demo import DEMO_PRACTITIONER_EMAIL, seed_renewal_history
from registry.register.renewals import RenewalCalendar
from registry.register.tables import EntryState, RegisterEntry

SEED = 2026_11_27
AUDIT_SEED = "demo"  # the demo's audit sample: recorded like any seed, so anyone can redraw it
PROFILES = 2  # chosen practitioners whose profiles are in, waiting for an assessor
OTHERS = 300  # registered practitioners, besides the demo one, given a few activities
AREAS = (
    "risk_assessment",
    "public_protection",
    "desistance",
    "victims",
    "diversity",
    "ethics",
)
STANDARDS = ("continuous_record", "mix_of_learning", "quality_of_practice", "benefits_people")
TITLES: dict[ActivityType, tuple[str, ...]] = {
    ActivityType.formal_course: ("OASys refresher course", "Domestic abuse risk training"),
    ActivityType.e_learning: ("Safeguarding adults e-learning", "Trauma-informed practice module"),
    ActivityType.supervision: ("Reflective supervision", "Case supervision on a MAPPA case"),
    ActivityType.peer_learning: ("Peer case discussion", "Practice learning group"),
    ActivityType.conference: ("Regional probation conference", "Desistance research day"),
    ActivityType.reading_research: ("Reading: desistance literature", "HMIP thematic report"),
    ActivityType.work_based_learning: ("Shadowing a victim liaison officer", "Court duty rota"),
    ActivityType.other: ("Mentoring a PQiP learner", "Community panel observation"),
}
REFLECTION = (
    "I took part and kept notes on what applied to my caseload.",
    "I learned how to weigh the new evidence on risk and protective factors.",
    "I now discuss protective factors explicitly in supervision and in my reports.",
)


def _activity(
    rng: random.Random, day: date, *, full: bool = False, peer: bool = False, **fixed: Any
) -> ActivityIn:
    kind = rng.choice(list(ActivityType))
    reflective = full or rng.random() < 0.4
    return ActivityIn.model_validate(
        {
            "title": rng.choice(TITLES[kind]),
            "done_on": day,
            "hours": Decimal(rng.randint(2, 28)) / 4,
            "activity_type": kind.value,
            "participatory": kind
            in (
                ActivityType.formal_course,
                ActivityType.supervision,
                ActivityType.peer_learning,
                ActivityType.conference,
            ),
            "practice_areas": rng.sample(AREAS, rng.randint(1, 2)),
            "standards": rng.sample(STANDARDS, rng.randint(0, 2)),
            "what_happened": REFLECTION[0] if reflective else "",
            "what_learned": REFLECTION[1] if reflective else "",
            "practice_changed": REFLECTION[2] if reflective else "",
            "peer_reflection": peer,
            "peer_role": "Senior Probation Officer" if peer else "",
            **fixed,
        }
    )


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


async def _demo_practitioner(rng: random.Random, today: date, calendar: RenewalCalendar) -> int:
    account = await accounts.find_account_by_email(DEMO_PRACTITIONER_EMAIL)
    owner = await activities.find_owner(account.id) if account else None
    if owner is None:
        return 0
    year = activities.registration_year(today, calendar)
    last_first, last_last = activities.year_bounds(year - 1, calendar)
    logged = 0
    # Last year: the whole requirement met, every rule.
    for number in range(6):
        day = _day_between(rng, last_first, last_last)
        data = _activity(
            rng,
            day,
            full=number < 3,
            peer=number == 0,
            hours=Decimal(6),
            participatory=number % 2 == 0,
            practice_areas=[AREAS[number]],
        )
        await activities.record_for(owner, data, calendar)
        logged += 1
    # This year: under way, some rules met and some not yet.
    first = max(activities.year_bounds(year, calendar)[0], owner.registered_since)
    for number in range(4):
        day = _day_between(rng, first, today)
        data = _activity(rng, day, full=number == 0, practice_areas=[AREAS[number % 2]])
        await activities.record_for(owner, data, calendar)
        logged += 1
    return logged


async def _others(rng: random.Random, today: date, calendar: RenewalCalendar) -> int:
    rows: list[dict[str, Any]] = (
        await RegisterEntry.select(
            RegisterEntry.id,
            RegisterEntry.practitioner,
            RegisterEntry.registered_since,
            RegisterEntry.practitioner.account.as_alias("account"),
        )
        .where(RegisterEntry.state == EntryState.registered.value)
        .order_by(RegisterEntry.id)
        .limit(OTHERS + 1)
    )
    year = activities.registration_year(today, calendar)
    first = activities.year_bounds(year - 1, calendar)[0]
    logged = 0
    for row in rows:
        if row["account"] is not None:
            continue  # the demo practitioner has their own log
        owner = Owner(0, row["practitioner"], row["id"], row["registered_since"])
        start = max(first, owner.registered_since)
        async with transaction():
            for _ in range(rng.randint(0, 8)):
                await activities.record_for(
                    owner, _activity(rng, _day_between(rng, start, today)), calendar
                )
                logged += 1
    return logged


async def seed_demo_cpd(summary: DemoSummary, progress: Progress) -> None:
    existing = await Activity.count()
    if existing:
        summary.counts["CPD activities"] = existing
        return
    rng = random.Random(SEED)  # noqa: S311 - demo data, the same every time
    today = clock.now().date()
    calendar = RenewalCalendar()
    task = progress.add_task("Demo CPD", total=2)
    with acting_as(Actor(id=None, label="system: demo")):
        logged = await _demo_practitioner(rng, today, calendar)
        progress.advance(task)
        logged += await _others(rng, today, calendar)
        await seed_renewal_history(today, calendar)
        await _audit_sample(today, calendar)
        progress.advance(task)
    summary.counts["CPD activities"] = logged


async def _audit_sample(today: date, calendar: RenewalCalendar) -> None:
    """Draw the last closed year's audit sample (as the daily job would, with a recorded seed)
    and submit the profiles of the first chosen practitioners who logged activities that year
    (people without an account, so the demo speaks for them), showing up to three of them."""
    year = sampling.last_closed_year(today, calendar)
    sample = await sampling.draw_sample(year, calendar, seed=AUDIT_SEED, by="system: demo")
    first, last = activities.year_bounds(year, calendar)
    standards = await Standard.select(Standard.code).where(Standard.active.eq(True))
    cases = await AuditCase.select(AuditCase.id, AuditCase.practitioner).where(
        AuditCase.entry.is_in(sample.chosen or [0]),
        AuditCase.entry._.practitioner._.account.is_null(),
    )
    submitted = 0
    for case in sorted(cases, key=lambda case: case["id"]):
        if submitted == PROFILES:
            break
        shown = await Activity.select(Activity.id).where(
            Activity.practitioner == case["practitioner"],
            Activity.done_on >= first,
            Activity.done_on <= last,
        )
        if not shown:
            continue
        profile = audit_workflow.Profile(
            summary_of_practice="I supervise a caseload of people on licence, mostly medium "
            "and high risk, and write pre-sentence reports for the Crown Court.",
            activity_ids=[row["id"] for row in shown[:3]],
            statements={row["code"]: REFLECTION[2] for row in standards},
        )
        await audit_workflow.perform(
            case["id"], audit_workflow.Move.submit, by_user_id=None, profile=profile
        )
        submitted += 1
