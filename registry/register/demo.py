"""Demo register: a few thousand practitioners to search, filter and download.

Realistic British names (Faker's en_GB, seeded, so every fresh demo has the same people) across
every region and designated role; most registered until the next 30 November, some lapsed,
removed or voluntarily removed; qualifications that fit when each person qualified. The demo
practitioner login (``priya.practitioner@example.org``) has the first entry. Runs only on a
register with no entries, so ``registry demo`` can be run again.

Open applications are seeded by the applications' own seeder, listed after this one in the
register's manifest: it can rely on the entries and the demo logins being there. Fitness to
practise, when it lands, adds its own seeder to its manifest (entries with conditions, a
suspension, a warning), and runs after this one because its domain comes later in the list.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from faker import Faker
from rich.progress import Progress

from registry.accounts import users as accounts
from registry.audit.context import Actor, acting_as
from registry.core import clock
from registry.core.bulk import insert_rows
from registry.db import transaction
from registry.demo import DemoSummary
from registry.register import names, renewals, service
from registry.register.tables import EntryState, RegisterEntry, Renewal

DEMO_ENTRIES = 3000
SEED = 2026_11_23
BATCH_SIZE = 100  # entries per transaction: one commit per batch keeps the demo quick
DEMO_PRACTITIONER_EMAIL = "priya.practitioner@example.org"
REASON = "Demo data"
T = TypeVar("T")

# (weight, role codes): trainees (PQiP learners) are often employed as PSOs while they train.
ROLE_MIX: tuple[tuple[int, tuple[str, ...]], ...] = (
    (40, ("probation_officer",)),
    (33, ("probation_services_officer",)),
    (12, ("senior_probation_officer",)),
    (8, ("trainee_probation_officer",)),
    (5, ("probation_services_officer", "trainee_probation_officer")),
    (2, ("probation_officer", "senior_probation_officer")),
)
STATE_MIX: tuple[tuple[int, EntryState], ...] = (
    (88, EntryState.registered),
    (6, EntryState.lapsed),
    (3, EntryState.removed),
    (3, EntryState.voluntarily_removed),
)
# Bigger regions get more people; every region gets some.
REGION_WEIGHTS = {"london": 3, "north_west": 2, "greater_manchester": 2, "west_midlands": 2}


@dataclass(frozen=True)
class _Picker:
    rng: random.Random

    def weighted(self, mix: tuple[tuple[int, T], ...]) -> T:
        return self.rng.choices([item for _, item in mix], [w for w, _ in mix])[0]

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randrange(max(1, (last - first).days)))


def demo_entries(
    count: int,
    today: date,
    reference: service.ReferenceData,
    calendar: renewals.RenewalCalendar | None = None,
) -> list[service.EntryIn]:
    """``count`` believable entries, the same ones for the same ``today`` every time."""
    calendar = calendar or renewals.RenewalCalendar()
    fake = Faker("en_GB")
    fake.seed_instance(SEED)
    pick = _Picker(random.Random(SEED))  # noqa: S311 - made-up people, not secrets
    regions = [(REGION_WEIGHTS.get(code, 1), code) for code in reference.regions]
    next_deadline = calendar.deadline_in(today.year)
    if next_deadline < today:
        next_deadline = calendar.deadline_in(today.year + 1)
    renewal_opens, _ = calendar.window_for(next_deadline)
    entries: list[service.EntryIn] = []
    for n in range(count):
        given = fake.first_name()
        if pick.rng.random() < 0.2:
            given += " " + fake.first_name()
        family = fake.last_name()
        born = pick.day_between(date(today.year - 64, 1, 1), date(today.year - 23, 1, 1))
        roles = (
            tuple(code for code in pick.weighted(ROLE_MIX) if code in reference.roles)
            or tuple(reference.roles)[:1]
        )
        state = pick.weighted(STATE_MIX)
        trainee = "trainee_probation_officer" in roles
        # Joined at 21 or later: trainees in the last two years, others in the last 35.
        earliest = max(
            born + timedelta(days=21 * 366), today - timedelta(days=730 if trainee else 12775)
        )
        if state is EntryState.registered:
            since = pick.day_between(earliest, today)
            renewed = today >= renewal_opens and pick.rng.random() < 0.3
            until = calendar.next_deadline(next_deadline) if renewed else next_deadline
        else:
            # Off the register since a deadline after they joined and before the coming one.
            last_deadline = calendar.deadline_in(next_deadline.year - 1)
            since = pick.day_between(
                min(earliest, last_deadline - timedelta(days=400)),
                last_deadline - timedelta(days=1),
            )
            first_year = since.year if calendar.deadline_in(since.year) >= since else since.year + 1
            until = calendar.deadline_in(pick.rng.randint(first_year, last_deadline.year))
        entries.append(
            service.EntryIn(
                person=service.PersonIn(
                    given_names=given,
                    family_name=family,
                    date_of_birth=born,
                    email=f"{names.fold(given).split()[0]}.{names.fold(family).replace(' ', '')}"
                    f"{n}@example.org",
                    phone=fake.phone_number(),
                    address=f"{fake.street_address()}, {fake.city()}".replace("\n", ", "),
                    postcode=fake.postcode(),
                    employer="The Probation Service",
                ),
                role_codes=roles,
                region_code=pick.weighted(tuple(regions)),
                registered_since=since,
                registered_until=until,
                qualifications=_qualifications(pick, roles, since, reference),
                state=state,
            )
        )
    return entries


def _qualifications(
    pick: _Picker, roles: tuple[str, ...], since: date, reference: service.ReferenceData
) -> list[service.QualificationIn]:
    """What someone who joined on ``since`` in ``roles`` would most likely hold."""
    if "trainee_probation_officer" in roles:
        return []
    if roles == ("probation_services_officer",):
        code = "pqf" if pick.rng.random() < 0.35 else ""
    elif since.year >= 2016:
        code = "pqip"
    elif since.year >= 1998:
        code = "dips"
    else:
        code = "cqsw"
    if pick.rng.random() < 0.03:
        code = "other"
    if code not in reference.qualifications:
        return []
    awarded = since - timedelta(days=pick.rng.randint(20, 200))
    return [service.QualificationIn(code, awarded)]


async def _demo_practitioner_entry(
    reference: service.ReferenceData, today: date, calendar: renewals.RenewalCalendar
) -> service.EntryIn | None:
    account = await accounts.find_account_by_email(DEMO_PRACTITIONER_EMAIL)
    if account is None or "london" not in reference.regions:
        return None
    given, family = account.display_name.rsplit(" ", 1)
    since = date(today.year - 6, 9, 1)
    until = calendar.deadline_in(today.year)
    return service.EntryIn(
        person=service.PersonIn(
            given, family, date(today.year - 35, 5, 17), email=DEMO_PRACTITIONER_EMAIL
        ),
        role_codes=("probation_officer",),
        region_code="london",
        registered_since=since,
        registered_until=until if until >= today else calendar.deadline_in(today.year + 1),
        qualifications=[service.QualificationIn("pqip", date(today.year - 6, 7, 10))],
        account_id=account.id,
    )


async def seed_register(summary: DemoSummary, progress: Progress, count: int = DEMO_ENTRIES) -> int:
    """Put ``count`` demo practitioners on an empty register; return how many were added."""
    existing = await RegisterEntry.count()
    if existing:
        summary.counts["register entries"] = existing
        return 0
    today = clock.now().date()
    calendar = renewals.RenewalCalendar()
    reference = await service.reference_data()
    entries = demo_entries(count, today, reference, calendar)
    own = await _demo_practitioner_entry(reference, today, calendar)
    if own is not None:
        entries[0] = own
    task = progress.add_task("Demo register", total=len(entries))
    with acting_as(Actor(id=None, label="system: demo")):
        for start in range(0, len(entries), BATCH_SIZE):
            batch = entries[start : start + BATCH_SIZE]
            async with transaction():
                for entry in batch:
                    await service.create_entry(entry, reason=REASON, reference=reference)
            progress.advance(task, len(batch))
    summary.counts["register entries"] = len(entries)
    return len(entries)


RENEWAL_COLUMNS = (
    "entry",
    "registration_year",
    "submitted_at",
    "character_declaration",
    "health_declaration",
    "registered_until_before",
    "registered_until_after",
)


async def seed_renewal_history(today: date, calendar: renewals.RenewalCalendar) -> None:
    """The renewals that brought each registered entry to its "registered until": the last
    closed year's and, for those who have renewed already, this year's. Written as the
    register's history, before the demo starts, so without an audit entry each. The CPD demo
    calls it once its logs are in (a renewal declares the year's CPD, which is then final) and
    before it draws the audit sample, which chooses among those who renewed."""
    rng = random.Random(SEED)  # noqa: S311 - demo data, the same every time
    entries = await RegisterEntry.select(
        RegisterEntry.id, RegisterEntry.registered_since, RegisterEntry.registered_until
    ).where(RegisterEntry.state == EntryState.registered.value)
    now = clock.now().astimezone(UTC)
    last_closed = today.year if calendar.deadline_in(today.year) < today else today.year - 1
    rows: list[list[object]] = []
    for entry in entries:
        since, until = entry["registered_since"], entry["registered_until"]
        for year in (last_closed, last_closed + 1):
            due = calendar.deadline_in(year)
            opens, _ = calendar.window_for(due)
            if since < opens and until > due and opens <= today:
                day = min(opens + timedelta(days=rng.randint(0, (due - opens).days)), today)
                submitted = min(
                    datetime.combine(day, time(10), UTC) + timedelta(minutes=rng.randint(0, 480)),
                    now,
                )
                rows.append(
                    [
                        entry["id"],
                        year,
                        submitted,
                        False,
                        False,
                        due,
                        calendar.deadline_in(year + 1),
                    ]
                )
    async with transaction():
        await insert_rows(Renewal, RENEWAL_COLUMNS, rows)


async def seed_demo_register(summary: DemoSummary, progress: Progress) -> None:
    await seed_register(summary, progress)
