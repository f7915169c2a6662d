"""Raising a concern: on PostgreSQL the whole write is one call of the database's
conduct_raise_if_simple when it can decide everything, and anything else is refused, or
written, exactly as before (the step-by-step path, the reference for "as before").

Whichever path a concern takes, it stores the same rows and the same audit entry, the chain
verifies, the hourly limit per address holds (the refusal keeping its attempt and its entry), and
nothing is stored twice or by half."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from registry.audit.service import verify_chain
from registry.audit.tables import AuditEntry
from registry.conduct import concerns
from registry.conduct.tables import (
    Case,
    CaseDocument,
    CaseEvent,
    Concern,
    ConcernAttempt,
    ConcernCategory,
    Stage,
)
from registry.db import fetch_all_now
from registry.errors import InvalidInput, TooManyRequests
from registry.notifications.tables import OutboxMessage
from registry.register import evidence
from tests.conduct.helpers import concern_about, people
from tests.employers.helpers import counting_statements

ADDRESS = "198.51.100.7"


def _step_by_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every concern from here on takes the step-by-step path (the one call declines)."""

    async def declined(*_args: Any, **_kwargs: Any) -> None:
        return None

    monkeypatch.setattr(concerns, "_raise_if_simple", declined)


async def _stored(raised: concerns.Raised) -> dict[str, Any]:
    """Everything a concern wrote, without ids, times and its own reference."""
    [concern] = await Concern.select().where(Concern.reference == raised.reference)
    case = await Case.select().where(Case.id == raised.case_id).first()
    categories = await ConcernCategory.select(ConcernCategory.category).where(
        ConcernCategory.concern == concern["id"]
    )
    documents = await CaseDocument.select(
        CaseDocument.file, CaseDocument.kind, CaseDocument.disclosed, CaseDocument.added_by
    ).where(CaseDocument.concern == concern["id"])
    [event] = await CaseEvent.select(
        CaseEvent.event, CaseEvent.from_stage, CaseEvent.to_stage, CaseEvent.details
    ).where(CaseEvent.case == raised.case_id, CaseEvent.details.like(f"%{raised.reference}%"))
    emails = await OutboxMessage.select(
        OutboxMessage.kind,
        OutboxMessage.recipient,
        OutboxMessage.template,
        OutboxMessage.subject,
        OutboxMessage.body,
    ).where(OutboxMessage.idempotency_key == f"conduct-concern:{raised.reference}")
    [entry] = await AuditEntry.select(
        AuditEntry.actor_id,
        AuditEntry.actor_label,
        AuditEntry.action,
        AuditEntry.target_type,
        AuditEntry.target_id,
        AuditEntry.changes,
        AuditEntry.client_address,
        AuditEntry.request_id,
    ).where(
        AuditEntry.action == "conduct.concern_raised",
        AuditEntry.changes.like(f"%{raised.reference}%"),
    )
    mine = raised.reference
    for name in ("id", "reference", "case", "raised_at"):
        concern.pop(name)
    for row in (event, *emails, entry):
        for name in ("details", "body", "subject", "changes"):
            if name in row:
                row[name] = str(row[name]).replace(mine, "<reference>")
    assert case is not None
    return {
        "concern": concern,
        "case": {
            "entry": case["entry"],
            "needs_identifying": case["needs_identifying"],
            "stage": case["stage"],
            "is_its_own": case["reference"] == mine,
            "opened_with_it": case["opened_at"] == case["stage_changed_at"],
        },
        "categories": [row["category"] for row in categories],
        "documents": documents,
        "event": event,
        "emails": emails,
        "entry": {**entry, "target_id": entry["target_id"] == case["reference"]},
        "answer": (raised.case_reference == case["reference"], raised.needs_identifying),
    }


async def _files(tmp_path: Any, count: int) -> list[int]:
    ids = []
    for n in range(count):
        checked = evidence.check_upload(f"note-{n}.pdf", b"%PDF-1.4\n%%EOF\n" + bytes([n]) * 40)

        async def kept(_stored: evidence.StoredFile) -> None:
            return None

        ids.append((await evidence.store(tmp_path, checked, uploaded_by=None, then=kept)).id)
    return ids


@pytest.mark.parametrize("number", [True, False], ids=["on the register", "nobody named"])
async def test_one_call_stores_what_the_step_by_step_path_stores(
    engine: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, number: bool
) -> None:
    who = await people()
    files = await _files(tmp_path, 2)
    about: dict[str, Any] = (
        {"number": who.entry.registration_number}
        if number
        else {"number": "", "about_name": "Pat Smith", "about_workplace": "Leeds"}
    )
    one = concern_about(
        about.pop("number"),
        **about,
        categories=["professional_boundaries", "dishonesty"],
        attachments=files,
        raiser_phone="0113 496 0000",
        happened_when="Last spring",
    )
    with counting_statements() as sent:
        first = await concerns.raise_concern(one, client_address=ADDRESS)
        joined = await concerns.raise_concern(one, client_address=ADDRESS)
    if engine.engine_type == "postgres":
        assert len(sent) == 2, sent  # one call each
    written = [await _stored(first), await _stored(joined)]
    _step_by_step(monkeypatch)
    # The step-by-step path's first concern opens a case of its own, as the first did.
    await Case.update({Case.stage: Stage.closed.value}).where(Case.id == first.case_id)
    reference_first = await concerns.raise_concern(one, client_address=ADDRESS)
    reference_joined = await concerns.raise_concern(one, client_address=ADDRESS)
    assert written == [await _stored(reference_first), await _stored(reference_joined)]
    if number:  # the second joined the first's open case
        assert (joined.case_id, reference_joined.case_id) == (
            first.case_id,
            reference_first.case_id,
        )
    assert await ConcernAttempt.count() == 4
    report = await verify_chain()  # every entry's hash recomputed from what is stored
    assert report.ok, report


async def test_a_concern_about_someone_with_an_open_case_joins_it(engine: Any) -> None:
    who = await people()
    first = await concerns.raise_concern(concern_about(who.entry.registration_number))
    with counting_statements() as sent:
        second = await concerns.raise_concern(
            concern_about(who.entry.registration_number, relationship="employer"),
            client_address=ADDRESS,
        )
    if engine.engine_type == "postgres":
        assert len(sent) == 1, sent
    assert (second.case_id, second.case_reference) == (first.case_id, first.reference)
    assert not second.needs_identifying
    assert await Case.count() == 1
    events = await CaseEvent.select(CaseEvent.event, CaseEvent.to_stage).order_by(CaseEvent.id)
    assert [(e["event"], e["to_stage"]) for e in events] == [
        ("concern_received", Stage.received.value),
        ("concern_linked", ""),
    ]
    [entry] = await AuditEntry.select().where(
        AuditEntry.changes.like(f"%{second.reference}%"), AuditEntry.action.like("conduct.%")
    )
    assert entry["target_id"] == first.reference
    assert json.loads(entry["changes"])["after"]["identified"] is True


async def test_one_too_many_is_refused_as_before_keeping_its_attempt_and_entry(
    engine: Any,
) -> None:
    for n in range(concerns.CONCERNS_PER_ADDRESS):
        with counting_statements() as sent:
            await concerns.raise_concern(
                concern_about("", about_name=f"Sam {n}", about_workplace="Office"),
                client_address=ADDRESS,
            )
        if engine.engine_type == "postgres":
            assert len(sent) == 1, sent
    with pytest.raises(TooManyRequests, match="Too many concerns") as refused:
        await concerns.raise_concern(
            concern_about("", about_name="One more", about_workplace="Office"),
            client_address=ADDRESS,
        )
    assert refused.value.retry_after == 3600
    assert await Concern.count() == concerns.CONCERNS_PER_ADDRESS
    assert await ConcernAttempt.count() == concerns.CONCERNS_PER_ADDRESS + 1
    [limited] = await AuditEntry.select().where(AuditEntry.action == "conduct.concerns_limited")
    assert (limited["target_type"], limited["target_id"]) == ("client", ADDRESS)
    assert await OutboxMessage.count() == concerns.CONCERNS_PER_ADDRESS
    # Another address is not held back, and the chain holds both paths' entries.
    await concerns.raise_concern(
        concern_about("", about_name="Elsewhere", about_workplace="Office"),
        client_address="192.0.2.1",
    )
    assert (await verify_chain()).ok


async def test_an_unknown_kind_is_refused_as_before_and_nothing_is_stored(engine: Any) -> None:
    who = await people()
    with pytest.raises(InvalidInput, match="'no_such_kind' is not a kind of concern") as refused:
        await concerns.raise_concern(
            concern_about(who.entry.registration_number, categories=["dishonesty", "no_such_kind"]),
            client_address=ADDRESS,
        )
    assert refused.value.field == "categories"
    assert await Concern.count() == await Case.count() == await ConcernAttempt.count() == 0
    assert await AuditEntry.count().where(AuditEntry.action.like("conduct.%")) == 0


async def test_concerns_about_one_practitioner_from_one_address_at_once(engine: Any) -> None:
    """All in one case, never more than the limit taken, every attempt kept once."""
    who = await people()
    sent = concerns.CONCERNS_PER_ADDRESS + 3

    async def one(n: int) -> str:
        try:
            await concerns.raise_concern(
                concern_about(who.entry.registration_number, what_happened=f"Incident {n}"),
                client_address=ADDRESS,
            )
        except TooManyRequests:
            return "refused"
        return "made"

    outcomes = await asyncio.gather(*(one(n) for n in range(sent)))
    assert outcomes.count("made") == concerns.CONCERNS_PER_ADDRESS
    assert await Concern.count() == concerns.CONCERNS_PER_ADDRESS
    assert await Case.count() == 1
    assert await CaseEvent.count() == concerns.CONCERNS_PER_ADDRESS
    assert await ConcernAttempt.count() == sent
    limited = AuditEntry.action == "conduct.concerns_limited"
    assert await AuditEntry.count().where(limited) == sent - concerns.CONCERNS_PER_ADDRESS
    assert (await verify_chain()).ok


@pytest.mark.postgres_only
async def test_a_practitioner_held_elsewhere_waits_and_is_written_once(engine: Any) -> None:
    """The call never waits for a lock (its batch holds the audit chain's): it declines, and
    the step-by-step path waits for the entry as it always has."""
    who = await people()
    elsewhere = await asyncpg.connect(engine.config["dsn"])
    try:
        held = elsewhere.transaction()
        await held.start()
        await elsewhere.execute(
            "SELECT id FROM register_entry WHERE id = $1 FOR UPDATE", who.entry.id
        )
        task = asyncio.ensure_future(
            concerns.raise_concern(
                concern_about(who.entry.registration_number), client_address=ADDRESS
            )
        )
        await asyncio.sleep(0.3)
        assert not task.done()  # waiting, in the step-by-step path, for the entry
        assert await Concern.count() == 0
        await held.commit()
        raised = await task
    finally:
        await elsewhere.close()
    assert not raised.needs_identifying
    assert await Concern.count() == await Case.count() == await ConcernAttempt.count() == 1
    assert await AuditEntry.count().where(AuditEntry.action == "conduct.concern_raised") == 1
    assert (await verify_chain()).ok


@pytest.mark.postgres_only
async def test_the_one_call_writes_keep_no_plan_that_reads_a_whole_table(engine: Any) -> None:
    """A database function that keeps its plans (force_generic_plan) makes each one, foreign key
    checks included, when the function first runs on a connection: on a new register's empty
    tables that is a scan of the whole table, kept as the table grows (served, concerns a second
    fell from ~2,900 to ~250 in a minute). Each such function must refuse whole-table scans."""
    rows = await fetch_all_now(
        "SELECT p.proname, p.proconfig FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = current_schema()"
        " AND 'plan_cache_mode=force_generic_plan' = ANY(p.proconfig)"
    )
    assert {row["proname"] for row in rows} >= {"cpd_record_if_simple", "conduct_raise_if_simple"}
    for row in rows:
        assert "enable_seqscan=off" in row["proconfig"], row["proname"]
