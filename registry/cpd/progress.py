"""Progress: each rule of a registration year, the figure against its target.

The figures come from aggregate queries in the database: however many activities a practitioner
has logged, Python sees a handful of sums per year, never the activities. Hours count under the
pack in force on each activity's date (its cap on one type of activity included); the targets
are those of the pack in force on the year's last day. Every year of a record at once (the
dashboard, the API) is four queries whatever the number of years or activities: the sums and
the practice areas grouped by year, the packs, the exemptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from registry.core import clock
from registry.cpd import activities, exemptions, packs
from registry.cpd.activities import Owner
from registry.cpd.tables import Activity
from registry.db import fetch_one
from registry.errors import NotFound
from registry.register.renewals import RenewalCalendar

# Hours per pack and type are summed first, so a pack's cap on one type applies to that type's
# hours under that pack; the outer query adds them up. Practice areas are counted distinct.
FIGURES = """
SELECT
  COALESCE(SUM(CASE WHEN p.capped_type = g.activity_type AND g.quarters > p.cap_quarters
                    THEN p.cap_quarters ELSE g.quarters END), 0) AS counted_quarters,
  COALESCE(SUM(g.quarters), 0) AS logged_quarters,
  COALESCE(SUM(g.participatory_quarters), 0) AS participatory_quarters,
  COALESCE(SUM(g.reflective), 0) AS reflective,
  COALESCE(SUM(g.peer), 0) AS peer,
  COALESCE(SUM(g.n), 0) AS activities,
  (SELECT COUNT(DISTINCT l.practice_area) FROM cpd_activity_practice_area l
     JOIN cpd_activity x ON x.id = l.activity
    WHERE x.practitioner = {} AND x.done_on >= {} AND x.done_on <= {}) AS practice_areas
FROM (
  SELECT a.rule_pack, a.activity_type,
         SUM(a.quarters) AS quarters,
         SUM(CASE WHEN a.participatory THEN a.quarters ELSE 0 END) AS participatory_quarters,
         SUM(CASE WHEN a.reflective THEN 1 ELSE 0 END) AS reflective,
         SUM(CASE WHEN a.peer_reflection THEN 1 ELSE 0 END) AS peer,
         COUNT(*) AS n
    FROM cpd_activity a
   WHERE a.practitioner = {} AND a.done_on >= {} AND a.done_on <= {}
   GROUP BY a.rule_pack, a.activity_type
) g JOIN cpd_rule_pack p ON p.id = g.rule_pack
"""

# The same sums for several years at once: ``{year}`` is a CASE naming each activity's year by
# the last days of the years asked for (oldest first), so one pass over the index range serves
# every year.
YEARLY_FIGURES = """
SELECT g.year AS year,
  COALESCE(SUM(CASE WHEN p.capped_type = g.activity_type AND g.quarters > p.cap_quarters
                    THEN p.cap_quarters ELSE g.quarters END), 0) AS counted_quarters,
  COALESCE(SUM(g.quarters), 0) AS logged_quarters,
  COALESCE(SUM(g.participatory_quarters), 0) AS participatory_quarters,
  COALESCE(SUM(g.reflective), 0) AS reflective,
  COALESCE(SUM(g.peer), 0) AS peer,
  COALESCE(SUM(g.n), 0) AS activities
FROM (
  SELECT {year} AS year, a.rule_pack, a.activity_type,
         SUM(a.quarters) AS quarters,
         SUM(CASE WHEN a.participatory THEN a.quarters ELSE 0 END) AS participatory_quarters,
         SUM(CASE WHEN a.reflective THEN 1 ELSE 0 END) AS reflective,
         SUM(CASE WHEN a.peer_reflection THEN 1 ELSE 0 END) AS peer,
         COUNT(*) AS n
    FROM cpd_activity a
   WHERE a.practitioner = {{}} AND a.done_on >= {{}} AND a.done_on <= {{}}
   GROUP BY 1, a.rule_pack, a.activity_type
) g JOIN cpd_rule_pack p ON p.id = g.rule_pack
GROUP BY g.year
"""
YEARLY_AREAS = """
SELECT {year} AS year, COUNT(DISTINCT l.practice_area) AS practice_areas
  FROM cpd_activity_practice_area l JOIN cpd_activity a ON a.id = l.activity
 WHERE a.practitioner = {{}} AND a.done_on >= {{}} AND a.done_on <= {{}}
 GROUP BY 1
"""
NOTHING = {
    "counted_quarters": 0,
    "logged_quarters": 0,
    "participatory_quarters": 0,
    "reflective": 0,
    "peer": 0,
    "activities": 0,
    "practice_areas": 0,
}


def number_text(value: Decimal) -> str:
    """12.50 as "12.5", 30.00 as "30"."""
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class RuleProgress:
    rule: str
    label: str
    figure: Decimal
    target: Decimal
    unit: str

    @property
    def met(self) -> bool:
        return self.figure >= self.target

    @property
    def still_needed(self) -> Decimal:
        return max(Decimal(0), self.target - self.figure)

    @property
    def summary(self) -> str:
        return f"{number_text(self.figure)} / {number_text(self.target)} {self.unit}"

    @property
    def percent(self) -> int:
        if self.target <= 0:
            return 100
        return min(100, int(self.figure * 100 / self.target))

    @property
    def needed_text(self) -> str:
        if self.met:
            return "Met"
        return f"{number_text(self.still_needed)} more {self.unit}"


@dataclass(frozen=True)
class YearProgress:
    registration_year: int
    starts_on: date
    ends_on: date
    pack: packs.Pack
    activities: int
    logged_quarters: int
    rules: list[RuleProgress]
    declared: bool
    current: bool
    exempt_days: int = 0

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    @property
    def met(self) -> bool:
        return all(rule.met for rule in self.rules)

    @property
    def rules_met(self) -> int:
        return sum(rule.met for rule in self.rules)


def hours(quarters: int) -> Decimal:
    return Decimal(quarters) / 4


async def year_progress(
    owner: Owner, year: int, calendar: RenewalCalendar, *, declared: set[int] | None = None
) -> YearProgress:
    first, last = activities.year_bounds(year, calendar)
    return await progress_between(owner, year, first, last, declared=declared)


async def progress_between(
    owner: Owner, year: int, first: date, last: date, *, declared: set[int] | None = None
) -> YearProgress:
    """Registration year ``year``, from ``first`` to ``last``: targets shrink pro rata by the
    days a registrar has exempted."""
    who = owner.practitioner_id
    row = await fetch_one(FIGURES, who, first, last, who, first, last)
    assert row is not None  # an aggregate without GROUP BY always answers one row
    pack = await packs.pack_on(last)
    exempt = await exemptions.exempt_days(who, first, last)
    if declared is None:
        declared = await activities.declared_years(owner)
    return _year(row, year, first, last, pack, exempt, declared)


def _year(
    row: Mapping[str, Any],
    year: int,
    first: date,
    last: date,
    pack: packs.Pack,
    exempt: int,
    declared: set[int],
) -> YearProgress:
    """A year's progress from its sums (``row``), its pack and its days exempt."""
    days = (last - first).days + 1

    def target(value: int) -> int:
        return exemptions.scaled(value, days, exempt)

    rules = [
        RuleProgress(
            "total_hours",
            "Total hours",
            hours(int(row["counted_quarters"])),
            hours(target(pack.min_total_quarters)),
            "hours",
        ),
        RuleProgress(
            "participatory_hours",
            "Participatory hours",
            hours(int(row["participatory_quarters"])),
            hours(target(pack.min_participatory_quarters)),
            "hours",
        ),
        RuleProgress(
            "reflective_accounts",
            "Reflective accounts",
            Decimal(int(row["reflective"])),
            Decimal(target(pack.min_reflective_accounts)),
            "accounts",
        ),
        RuleProgress(
            "peer_reflections",
            "Activities with peer reflection",
            Decimal(int(row["peer"])),
            Decimal(target(pack.min_peer_reflections)),
            "activities",
        ),
        RuleProgress(
            "practice_areas",
            "Practice areas covered",
            Decimal(int(row["practice_areas"])),
            Decimal(target(pack.min_practice_areas)),
            "areas",
        ),
    ]
    today = clock.now().date()
    return YearProgress(
        registration_year=year,
        starts_on=first,
        ends_on=last,
        pack=pack,
        activities=int(row["activities"]),
        logged_quarters=int(row["logged_quarters"]),
        rules=rules,
        declared=year in declared,
        current=first <= today <= last,
        exempt_days=exempt,
    )


async def _yearly_sums(who: int, bounds: dict[int, tuple[date, date]]) -> dict[int, dict[str, Any]]:
    """Each year's sums and practice areas (years without activities are missing)."""
    ordered = sorted(bounds.items())  # oldest first: the CASE takes the first last day reached
    year_case = (
        "CASE "
        + " ".join(f"WHEN a.done_on <= {{}} THEN {int(year)}" for year, _ in ordered)
        + " END"
    )
    lasts = [last for _, (_, last) in ordered]
    span = (ordered[0][1][0], ordered[-1][1][1])
    found: dict[int, dict[str, Any]] = {}
    for row in await Activity.raw(YEARLY_FIGURES.format(year=year_case), *lasts, who, *span):
        found[int(row["year"])] = {**NOTHING, **row}
    for row in await Activity.raw(YEARLY_AREAS.format(year=year_case), *lasts, who, *span):
        found.setdefault(int(row["year"]), dict(NOTHING))["practice_areas"] = row["practice_areas"]
    return found


def _pack_on(every: list[packs.Pack], day: date) -> packs.Pack:
    """The pack in force on ``day`` among ``every`` (newest start first), as packs.pack_on."""
    for pack in every:
        if pack.effective_from <= day:
            return pack
    raise NotFound(f"No CPD rule pack is in force on {day.isoformat()}")


def years_of(owner: Owner, calendar: RenewalCalendar) -> list[int]:
    """The registration years of the practitioner's record, the current one first."""
    today = clock.now().date()
    first = activities.registration_year(owner.registered_since, calendar)
    current = activities.registration_year(today, calendar)
    return list(range(current, first - 1, -1))


async def progress(account_id: int, calendar: RenewalCalendar) -> list[YearProgress]:
    """Every year of the practitioner's record, the current one first."""
    owner = await activities.owner_of(account_id)
    declared = await activities.declared_years(owner)
    years = years_of(owner, calendar)
    bounds = {year: activities.year_bounds(year, calendar) for year in years}
    sums = await _yearly_sums(owner.practitioner_id, bounds)
    every = await packs.list_packs()
    granted = await exemptions.granted_spans(
        owner.practitioner_id, bounds[years[-1]][0], bounds[years[0]][1]
    )
    return [
        _year(
            sums.get(year, NOTHING),
            year,
            first,
            last,
            _pack_on(every, last),
            exemptions.days_covered(granted, first, last),
            declared,
        )
        for year, (first, last) in bounds.items()
    ]


async def progress_for_year(account_id: int, year: int, calendar: RenewalCalendar) -> YearProgress:
    owner = await activities.owner_of(account_id)
    if year not in years_of(owner, calendar):
        raise NotFound(f"Your CPD record has no registration year {year}")
    return await year_progress(owner, year, calendar)
