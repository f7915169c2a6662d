"""The CPD audit sample: each registration year, once its renewal window has closed, a random
sample of the practitioners who renewed and have been registered two years or more.

The draw is reproducible: the eligible entries are listed in id order and sampled with
``random.Random`` seeded from the year and the recorded seed, so anyone holding the seed, rate
and eligible list gets the same practitioners. A year is drawn once: drawing it again (the
command run twice, the daily job after it) answers the first draw and changes nothing. The
number chosen is the rate times the eligible population, rounded up, so a non-empty population
always gives at least one.
"""

from __future__ import annotations

import json
import math
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.audit import service as audit
from registry.core import clock
from registry.core.scheduler import JobContext
from registry.cpd.tables import AuditCase, AuditCaseState, AuditSample
from registry.db import serialise_on, transaction
from registry.errors import InvalidInput
from registry.notifications import service as notifications
from registry.register.renewals import RenewalCalendar
from registry.register.tables import RegisterEntry, Renewal

DEFAULT_RATE = Decimal("0.025")
PROFILE_DAYS = 28
SAMPLE_LOCK = 0x0C9D_0002  # one draw at a time, so two cannot both make a year's sample
YEARS_REGISTERED = 2
PROFILE_PAGE = "/cpd/audit"


@dataclass(frozen=True)
class Sample:
    registration_year: int
    seed: str
    rate: Decimal
    eligible: list[int]  # entry ids
    chosen: list[int]  # entry ids
    drawn_at: datetime
    drawn_by: str
    new: bool  # drawn by this call; False when the year had been drawn before


def parse_rate(value: str | Decimal) -> Decimal:
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput("The rate must be a number, like 0.025", field="rate") from None
    if not rate.is_finite() or rate <= 0 or rate > 1:
        raise InvalidInput("The rate must be more than 0 and at most 1, like 0.025", field="rate")
    return rate


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


async def eligible_entries(year: int, calendar: RenewalCalendar) -> list[int]:
    """Entries that renewed after ``year`` and had been registered two years or more when its
    renewal window closed, in id order."""
    closed = calendar.deadline_in(year)
    since = _years_before(closed, YEARS_REGISTERED)
    renewed = await Renewal.select(Renewal.entry).where(Renewal.registration_year == year)
    ids = sorted({int(row["entry"]) for row in renewed})
    if not ids:
        return []
    rows = await RegisterEntry.select(RegisterEntry.id).where(
        RegisterEntry.id.is_in(ids) & (RegisterEntry.registered_since <= since)
    )
    return sorted(int(row["id"]) for row in rows)


def draw(year: int, seed: str, rate: Decimal, eligible: list[int]) -> list[int]:
    """The chosen entries: the same for the same year, seed, rate and eligible list."""
    if not eligible:
        return []
    count = min(len(eligible), math.ceil(rate * len(eligible)))
    chooser = random.Random(f"cpd-audit:{year}:{seed}")  # noqa: S311 - reproducible, not secret
    return sorted(chooser.sample(eligible, count))


def _sample(row: dict[str, Any], chosen: list[int], *, new: bool) -> Sample:
    return Sample(
        registration_year=int(row["registration_year"]),
        seed=str(row["seed"]),
        rate=Decimal(str(row["rate"])),
        eligible=[int(each) for each in json.loads(row["eligible"])],
        chosen=chosen,
        drawn_at=row["drawn_at"],
        drawn_by=str(row["drawn_by"]),
        new=new,
    )


async def get_sample(year: int) -> Sample | None:
    row = await AuditSample.select().where(AuditSample.registration_year == year).first()
    if row is None:
        return None
    cases = await AuditCase.select(AuditCase.entry).where(AuditCase.sample == row["id"])
    return _sample(row, sorted(int(case["entry"]) for case in cases), new=False)


async def draw_sample(
    year: int,
    calendar: RenewalCalendar,
    *,
    rate: Decimal = DEFAULT_RATE,
    seed: str | None = None,
    by: str = "system",
) -> Sample:
    """Draw ``year``'s sample, or answer the one already drawn (nothing changes)."""
    rate = parse_rate(rate)
    today = clock.now().date()
    closed = calendar.deadline_in(year)
    if today <= closed:
        raise InvalidInput(
            f"The renewal window for {year} closes on {closed:%-d %B %Y}: "
            "the sample is drawn after that",
            field="year",
        )
    if seed is not None and not (0 < len(seed) <= 40 and seed.isprintable()):
        raise InvalidInput("The seed must be 1 to 40 printable characters", field="seed")
    async with transaction():
        await serialise_on(AuditSample, SAMPLE_LOCK)
        earlier = await get_sample(year)
        if earlier is not None:
            return earlier
        seed = seed if seed is not None else str(secrets.randbits(64))
        eligible = await eligible_entries(year, calendar)
        chosen = draw(year, seed, rate, eligible)
        now = clock.now().astimezone(UTC)
        inserted = await AuditSample.insert(
            AuditSample(
                registration_year=year,
                seed=seed,
                rate=str(rate),
                eligible_count=len(eligible),
                eligible=json.dumps(eligible),
                chosen_count=len(chosen),
                drawn_at=now,
                drawn_by=by,
            )
        ).returning(AuditSample.id)
        sample_id = int(inserted[0]["id"])
        due_on = today + timedelta(days=PROFILE_DAYS)
        await _open_cases(sample_id, year, chosen, due_on)
        await audit.record(
            "cpd.audit_sample_drawn",
            "cpd_audit_sample",
            year,
            after={
                "seed": seed,
                "rate": str(rate),
                "eligible": len(eligible),
                "chosen": chosen,
            },
        )
        row = await AuditSample.select().where(AuditSample.id == sample_id).first()
        assert row is not None
        return _sample(row, chosen, new=True)


async def _open_cases(sample_id: int, year: int, chosen: list[int], due_on: date) -> None:
    if not chosen:
        return
    entries = await RegisterEntry.select(
        RegisterEntry.id,
        RegisterEntry.practitioner,
        RegisterEntry.registration_number,
        RegisterEntry.practitioner.given_names.as_alias("given_names"),
        RegisterEntry.practitioner.email.as_alias("email"),
    ).where(RegisterEntry.id.is_in(chosen))
    for entry in entries:
        await AuditCase.insert(
            AuditCase(
                sample=sample_id,
                entry=entry["id"],
                practitioner=entry["practitioner"],
                registration_year=year,
                state=AuditCaseState.awaiting_profile.value,
                due_on=due_on,
            )
        )
        if entry["email"]:
            await notifications.queue_email(
                entry["email"],
                "cpd_audit_selected",
                {
                    "given_names": entry["given_names"],
                    "registration_number": entry["registration_number"],
                    "year": year,
                    "due_on": f"{due_on:%-d %B %Y}",
                    "path": PROFILE_PAGE,
                },
                subject=f"Your CPD for {year} has been chosen for audit",
                key=f"cpd-audit-selected:{entry['registration_number']}:{year}",
            )


def last_closed_year(today: date, calendar: RenewalCalendar) -> int:
    """The latest registration year whose renewal window has closed before ``today``."""
    year = today.year
    while calendar.deadline_in(year) >= today:
        year -= 1
    return year


async def draw_due_sample(context: JobContext) -> str:
    """The scheduled job: draw the sample of the year whose window last closed, once."""
    calendar = RenewalCalendar.from_settings(context.settings)
    year = last_closed_year(context.now.date(), calendar)
    sample = await draw_sample(year, calendar, by="system: scheduler")
    if not sample.new:
        return f"the {year} CPD audit sample was drawn already"
    return (
        f"drew the {year} CPD audit sample: {len(sample.chosen)} of {len(sample.eligible)} eligible"
    )
