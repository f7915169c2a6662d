"""Progress: each rule at, below and above its target, from aggregate queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from registry.cpd import progress
from tests.cpd.helpers import CALENDAR, log, practitioner_with_record


async def _current(person: Any) -> progress.YearProgress:
    return (await progress.progress(person.account.id, CALENDAR))[0]


async def test_an_empty_year_shows_every_target_unmet(engine: Any) -> None:
    person = await practitioner_with_record()
    year = await _current(person)
    assert year.registration_year == 2027
    assert [rule.summary for rule in year.rules] == [
        "0 / 30 hours",
        "0 / 10 hours",
        "0 / 2 accounts",
        "0 / 1 activities",
        "0 / 3 areas",
    ]
    assert not year.met
    assert year.rules[0].still_needed == Decimal(30)


def _rule(year: progress.YearProgress, name: str) -> progress.RuleProgress:
    return next(rule for rule in year.rules if rule.rule == name)


async def test_total_hours_below_at_and_above_the_target(engine: Any) -> None:
    person = await practitioner_with_record()
    await log(person, hours=Decimal(12), done_on=date(2027, 1, 5))
    await log(person, hours=Decimal("0.5"), done_on=date(2027, 1, 6))
    total = _rule(await _current(person), "total_hours")
    assert (total.summary, total.met, total.needed_text) == (
        "12.5 / 30 hours",
        False,
        "17.5 more hours",
    )
    await log(person, hours=Decimal("17.5"), done_on=date(2027, 1, 7))
    total = _rule(await _current(person), "total_hours")
    assert (total.summary, total.met, total.still_needed) == ("30 / 30 hours", True, Decimal(0))
    await log(person, hours=Decimal("0.25"), done_on=date(2027, 1, 8))
    total = _rule(await _current(person), "total_hours")
    assert (total.summary, total.met) == ("30.25 / 30 hours", True)


async def test_participatory_hours_count_only_participatory_activities(engine: Any) -> None:
    person = await practitioner_with_record()
    await log(person, hours=Decimal(9), participatory=True)
    await log(person, hours=Decimal(5), participatory=False)
    rule = _rule(await _current(person), "participatory_hours")
    assert (rule.summary, rule.met) == ("9 / 10 hours", False)
    await log(person, hours=Decimal(1), participatory=True)
    rule = _rule(await _current(person), "participatory_hours")
    assert (rule.summary, rule.met) == ("10 / 10 hours", True)


async def test_a_reflective_account_needs_all_three_parts(engine: Any) -> None:
    person = await practitioner_with_record()
    whole = {"what_happened": "A", "what_learned": "B", "practice_changed": "C"}
    await log(person, **whole)
    await log(person, what_happened="Only this part")
    rule = _rule(await _current(person), "reflective_accounts")
    assert (rule.summary, rule.met) == ("1 / 2 accounts", False)
    await log(person, **whole)
    await log(person, **whole)
    rule = _rule(await _current(person), "reflective_accounts")
    assert (rule.summary, rule.met) == ("3 / 2 accounts", True)


async def test_peer_reflection_below_and_at_its_target(engine: Any) -> None:
    person = await practitioner_with_record()
    await log(person)
    assert not _rule(await _current(person), "peer_reflections").met
    await log(person, peer_reflection=True, peer_role="Senior Probation Officer")
    rule = _rule(await _current(person), "peer_reflections")
    assert (rule.summary, rule.met) == ("1 / 1 activities", True)


async def test_practice_areas_are_counted_once_each(engine: Any) -> None:
    person = await practitioner_with_record()
    await log(person, practice_areas=["risk_assessment", "ethics"])
    await log(person, practice_areas=["ethics"])
    rule = _rule(await _current(person), "practice_areas")
    assert (rule.summary, rule.met) == ("2 / 3 areas", False)
    await log(person, practice_areas=["victims", "diversity"])
    rule = _rule(await _current(person), "practice_areas")
    assert (rule.summary, rule.met) == ("4 / 3 areas", True)


async def test_a_year_meeting_every_rule_is_met_and_past_years_are_separate(engine: Any) -> None:
    person = await practitioner_with_record()
    await log(person, done_on=date(2026, 11, 30), hours=Decimal(24))  # the year to 30 Nov 2026
    for day, areas in ((1, ["ethics"]), (2, ["victims"]), (3, ["desistance"])):
        await log(
            person,
            done_on=date(2027, 2, day),
            hours=Decimal(10),
            practice_areas=areas,
            what_happened="A",
            what_learned="B",
            practice_changed="C",
            peer_reflection=day == 1,
            peer_role="Practice tutor" if day == 1 else "",
        )
    years = await progress.progress(person.account.id, CALENDAR)
    assert [year.registration_year for year in years][:2] == [2027, 2026]
    assert years[0].met
    assert years[0].current
    assert years[0].activities == 3
    assert years[1].activities == 1
    assert not years[1].met
    assert _rule(years[1], "total_hours").summary == "24 / 30 hours"
    assert years[-1].registration_year == 2020  # registered on 1 April 2020
