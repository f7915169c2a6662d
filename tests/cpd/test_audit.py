"""The CPD audit: the yearly sample (reproducible, eligibility exact, drawn once), and the
workflow of a chosen practitioner's case, move by move, allowed and refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from registry.accounts.roles import Role
from registry.audit.service import search as audit_search
from registry.core import clock
from registry.cpd import audit_workflow, sampling
from registry.cpd.audit_workflow import MOVES, Move, Profile
from registry.cpd.tables import AuditCase, AuditCaseState, AuditMove, AuditSample, Standard
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.notifications.tables import OutboxMessage
from registry.register import renewals, service
from registry.register.renewals import Declarations
from registry.register.tables import EntryState, RegisterEntry
from tests.accounts.helpers import SignedIn, make_user, user_signed_in_as
from tests.cpd.helpers import CALENDAR, log, practitioner_with_record
from tests.register.helpers import put_on_register
from tests.support import exempt_from_cpd

YEAR = 2026  # closed on 30 November 2026; the tests' today is 15 March 2027


async def renewed_for_2026(name: str, *, since: date = date(2020, 4, 1), email: str = "") -> int:
    account = await make_user(Role.practitioner, email or f"{name.lower()}@example.org")
    entry = await put_on_register(name, "Renewer", until=date(2026, 11, 30), account_id=account.id)
    await exempt_from_cpd(entry.id)
    with clock.frozen_at(datetime(2026, 10, 1, 9, tzinfo=UTC)):
        await renewals.renew(
            entry.id, Declarations(character=False), calendar=CALENDAR, by_user_id=account.id
        )
    await RegisterEntry.update({RegisterEntry.registered_since: since}).where(
        RegisterEntry.id == entry.id
    )
    return entry.id


async def test_only_renewed_practitioners_registered_two_years_are_eligible(engine: Any) -> None:
    old_hand = await renewed_for_2026("Old")
    exactly_two = await renewed_for_2026("Two", since=date(2024, 11, 30))
    await renewed_for_2026("New", since=date(2024, 12, 1))  # a day short of two years
    await put_on_register("Never", "Renewed", until=date(2026, 11, 30))
    assert await sampling.eligible_entries(YEAR, CALENDAR) == [old_hand, exactly_two]


async def test_the_sample_is_reproducible_recorded_and_drawn_once(engine: Any) -> None:
    eligible = [await renewed_for_2026(f"P{n}") for n in range(6)]
    drawn = await sampling.draw_sample(YEAR, CALENDAR, rate=Decimal("0.5"), seed="apple")
    assert drawn.new
    assert drawn.eligible == eligible
    assert len(drawn.chosen) == 3  # half of six
    assert drawn.chosen == sampling.draw(YEAR, "apple", Decimal("0.5"), eligible)
    row = await AuditSample.select().where(AuditSample.registration_year == YEAR).first()
    assert row is not None
    assert (row["seed"], row["rate"], row["eligible_count"], row["chosen_count"]) == (
        "apple",
        "0.5",
        6,
        3,
    )
    assert json.loads(row["eligible"]) == eligible
    # The chosen are told, once each, with 28 days to submit.
    emails = await OutboxMessage.select(OutboxMessage.template, OutboxMessage.subject)
    assert [each["template"] for each in emails].count("cpd_audit_selected") == 3
    cases = await AuditCase.select(AuditCase.entry, AuditCase.due_on, AuditCase.state)
    assert sorted(case["entry"] for case in cases) == drawn.chosen
    assert {str(case["due_on"]) for case in cases} == {"2027-04-12"}

    again = await sampling.draw_sample(YEAR, CALENDAR, rate=Decimal("0.9"), seed="pear")
    assert not again.new
    assert (again.seed, again.rate, again.chosen) == ("apple", Decimal("0.5"), drawn.chosen)
    assert await AuditCase.count() == 3
    assert len(await OutboxMessage.select()) == len(emails)
    drawn_entries = await audit_search(action="cpd.audit_sample_drawn")
    assert drawn_entries.total == 1


async def test_another_seed_draws_another_sample_and_the_default_rate_rounds_up(
    engine: Any,
) -> None:
    eligible = list(range(1, 201))
    first = sampling.draw(YEAR, "1", Decimal("0.025"), eligible)
    assert len(first) == 5  # 2.5 % of 200
    assert first == sampling.draw(YEAR, "1", Decimal("0.025"), eligible)
    assert first != sampling.draw(YEAR, "2", Decimal("0.025"), eligible)
    assert len(sampling.draw(YEAR, "1", Decimal("0.025"), [7])) == 1  # one of one, not none
    assert sampling.draw(YEAR, "1", Decimal("0.025"), []) == []


async def test_bad_requests_for_a_sample_are_refused_and_nothing_is_drawn(engine: Any) -> None:
    for rate in ("0", "-0.1", "1.5", "NaN", "lots"):
        with pytest.raises(InvalidInput, match="The rate must be"):
            await sampling.draw_sample(YEAR, CALENDAR, rate=rate)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="closes on 30 November 2027"):
        await sampling.draw_sample(2027, CALENDAR)
    with pytest.raises(InvalidInput, match="The seed must be"):
        await sampling.draw_sample(YEAR, CALENDAR, seed="x" * 41)
    assert await AuditSample.count() == 0


async def test_the_scheduled_job_draws_the_closed_year_once(engine: Any) -> None:
    await renewed_for_2026("Jobbed")
    assert sampling.last_closed_year(date(2026, 11, 30), CALENDAR) == 2025
    assert sampling.last_closed_year(date(2026, 12, 1), CALENDAR) == 2026
    first = await sampling.draw_sample(YEAR, CALENDAR, by="system: scheduler")
    second = await sampling.draw_sample(YEAR, CALENDAR, by="system: scheduler")
    assert first.new
    assert not second.new
    assert first.chosen == second.chosen
    assert len(first.chosen) == 1


# --- the workflow, move by move -----------------------------------------------------------


async def _case_in(state: AuditCaseState, person: SignedIn) -> int:
    entry = await renewals.practitioner_entry(person.account.id)
    assert entry is not None
    sample = await AuditSample.select(AuditSample.id).first()
    if sample is None:
        inserted = await AuditSample.insert(
            AuditSample(
                registration_year=YEAR,
                seed="s",
                rate="0.025",
                eligible_count=1,
                eligible="[]",
                chosen_count=1,
                drawn_at=clock.now(),
                drawn_by="test",
            )
        ).returning(AuditSample.id)
        sample = inserted[0]
    made = await AuditCase.insert(
        AuditCase(
            sample=sample["id"],
            entry=entry.id,
            practitioner=await _practitioner_of(entry.id),
            registration_year=YEAR,
            state=state.value,
            due_on=date(2027, 4, 12),
            decided_by=None,
        )
    ).returning(AuditCase.id)
    return int(made[0]["id"])


async def _practitioner_of(entry_id: int) -> int:
    row = (
        await RegisterEntry.select(RegisterEntry.practitioner)
        .where(RegisterEntry.id == entry_id)
        .first()
    )
    assert row is not None
    return int(row["practitioner"])


async def _profile(person: SignedIn) -> Profile:
    logged = await log(person, done_on=date(2026, 6, 1), title="Audit course")
    codes = [
        row["code"] for row in await Standard.select(Standard.code).where(Standard.active.eq(True))
    ]
    return Profile(
        "I supervise cases of high risk.", [logged.id], {code: f"I met {code}." for code in codes}
    )


async def _perform(case_id: int, move: Move, person: SignedIn, staff: int, profile: Profile) -> Any:
    transition = MOVES[move]
    by = person.account.id if transition.actor.value == "practitioner" else staff
    return await audit_workflow.perform(
        case_id,
        move,
        by_user_id=by,
        reason="Because" if transition.needs_reason else "",
        profile=profile if move is Move.submit else None,
        new_due_on=date(2027, 6, 1) if move is Move.extend else None,
    )


@pytest.mark.parametrize("move", list(Move))
async def test_each_move_is_allowed_only_from_its_states(engine: Any, move: Move) -> None:
    person = await practitioner_with_record()
    staff = (await user_signed_in_as(Role.cpd_assessor, "staff@example.org")).account.id
    profile = await _profile(person)
    transition = MOVES[move]
    for state in AuditCaseState:
        case_id = await _case_in(state, person)
        if state in transition.allowed_from:
            moved = await _perform(case_id, move, person, staff, profile)
            assert moved.state is transition.to, (move, state)
            kept = await AuditMove.select().where(AuditMove.case == case_id)
            assert [(m["move"], m["from_state"], m["to_state"]) for m in kept] == [
                (move.value, state.value, transition.to.value)
            ]
            if move is Move.lapse:
                entry = await renewals.practitioner_entry(person.account.id)
                assert entry is not None
                assert entry.state is EntryState.lapsed
                await service.move_entry(entry.id, service.EntryMove.restoration, reason="again")
        else:
            with pytest.raises(Conflict, match=transition.refusal):
                await _perform(case_id, move, person, staff, profile)
            assert (await audit_workflow.get_case(case_id)).state is state
            assert await AuditMove.count().where(AuditMove.case == case_id) == 0


async def test_a_second_submission_and_someone_elses_case_are_refused(engine: Any) -> None:
    person = await practitioner_with_record()
    other = await practitioner_with_record("other@example.org")
    profile = await _profile(person)
    case_id = await _case_in(AuditCaseState.awaiting_profile, person)
    with pytest.raises(NotFound):
        await audit_workflow.perform(
            case_id, Move.submit, by_user_id=other.account.id, profile=profile
        )
    foreign = await log(other, done_on=date(2026, 6, 2))
    with pytest.raises(InvalidInput, match="Choose activities from your CPD record"):
        await audit_workflow.perform(
            case_id,
            Move.submit,
            by_user_id=person.account.id,
            profile=Profile(profile.summary_of_practice, [foreign.id], profile.statements),
        )
    missing = dict(profile.statements)
    missing.pop(next(iter(missing)))
    with pytest.raises(InvalidInput, match="Enter how you met"):
        await audit_workflow.perform(
            case_id,
            Move.submit,
            by_user_id=person.account.id,
            profile=Profile(profile.summary_of_practice, profile.activity_ids, missing),
        )
    submitted = await audit_workflow.perform(
        case_id, Move.submit, by_user_id=person.account.id, profile=profile
    )
    assert submitted.state is AuditCaseState.submitted
    assert submitted.chosen_activities == profile.activity_ids
    with pytest.raises(Conflict, match="already been submitted"):
        await audit_workflow.perform(
            case_id, Move.submit, by_user_id=person.account.id, profile=profile
        )


async def test_an_assessor_never_moderates_their_own_decision(engine: Any) -> None:
    person = await practitioner_with_record()
    first = (await user_signed_in_as(Role.cpd_assessor, "first@example.org")).account.id
    second = (await user_signed_in_as(Role.cpd_assessor, "second@example.org")).account.id
    case_id = await _case_in(AuditCaseState.submitted, person)
    with pytest.raises(Conflict, match="Only an assessor's decision"):
        await audit_workflow.moderate(case_id, by_user_id=second, agrees=True, notes="Fine")
    with pytest.raises(InvalidInput, match="Enter your reasons"):
        await audit_workflow.perform(case_id, Move.meets, by_user_id=first, reason="  ")
    await audit_workflow.perform(case_id, Move.meets, by_user_id=first, reason="Clear profile")
    with pytest.raises(PermissionDenied, match="You made this decision"):
        await audit_workflow.moderate(case_id, by_user_id=first, agrees=True, notes="Mine")
    moderated = await audit_workflow.moderate(
        case_id, by_user_id=second, agrees=False, notes="Too generous"
    )
    assert (moderated.moderated_by, moderated.moderation_agrees) == (second, False)
    with pytest.raises(Conflict, match="already been moderated"):
        await audit_workflow.moderate(case_id, by_user_id=second, agrees=True, notes="Again")


async def test_overdue_profiles_go_to_a_registrar_whose_decisions_are_emailed(
    engine: Any,
) -> None:
    person = await practitioner_with_record()
    registrar = (await user_signed_in_as(Role.registrar, "reg@example.org")).account.id
    late = await _case_in(AuditCaseState.awaiting_profile, person)
    assert await audit_workflow.mark_overdue(date(2027, 4, 12)) == 0  # the last day
    assert await audit_workflow.mark_overdue(date(2027, 4, 13)) == 1
    assert await audit_workflow.mark_overdue(date(2027, 4, 13)) == 0  # run again
    assert (await audit_workflow.get_case(late)).state is AuditCaseState.overdue
    with pytest.raises(InvalidInput, match="new date in the future"):
        await audit_workflow.perform(
            late, Move.extend, by_user_id=registrar, reason="Ill", new_due_on=date(2027, 1, 1)
        )
    extended = await audit_workflow.perform(
        late, Move.extend, by_user_id=registrar, reason="Ill", new_due_on=date(2027, 5, 1)
    )
    assert (extended.state, extended.due_on) == (AuditCaseState.awaiting_profile, date(2027, 5, 1))
    emails = await OutboxMessage.select(OutboxMessage.subject).where(
        OutboxMessage.template == "cpd_audit_decision"
    )
    assert [each["subject"] for each in emails] == ["More time for your CPD profile"]


async def test_statistics_count_each_year(engine: Any) -> None:
    for n in range(4):
        await renewed_for_2026(f"S{n}")
    await sampling.draw_sample(YEAR, CALENDAR, rate=Decimal("0.5"), seed="stats")
    cases = [row["id"] for row in await AuditCase.select(AuditCase.id).order_by(AuditCase.id)]
    assessor = (await user_signed_in_as(Role.cpd_assessor, "a@example.org")).account.id
    await AuditCase.update(
        {AuditCase.state: "submitted", AuditCase.submitted_at: clock.now()}
    ).where(AuditCase.id == cases[0])
    await audit_workflow.perform(cases[0], Move.meets, by_user_id=assessor, reason="Good")
    (year,) = await audit_workflow.statistics()
    assert (year.registration_year, year.eligible, year.sampled) == (YEAR, 4, 2)
    assert (year.submitted, year.on_time, year.met, year.not_met) == (1, 1, 1, 0)
    assert year.outcomes == {"met": 1, "awaiting_profile": 1}
