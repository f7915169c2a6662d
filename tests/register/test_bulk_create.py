"""``service.create_entries`` (the import's batch path) gives every entry exactly what
``service.create_entry`` gives one: the same rows, search keys, public entry, history, audit
entries, registration certificate and watchers' events, told to change subscribers the same way."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from registry.audit import service as audit
from registry.audit.context import Actor, acting_as
from registry.audit.tables import AuditEntry
from registry.certificates import serials as certificate_serials
from registry.certificates import service as certificates
from registry.certificates.tables import Certificate
from registry.config import Settings
from registry.employers import watchlists
from registry.employers.tables import WebhookEvent
from registry.errors import Conflict
from registry.notifications.tables import OutboxMessage
from registry.register import hooks, numbers, service
from registry.register.tables import (
    EntryHistory,
    EntryQualification,
    EntryRole,
    EntryState,
    NameKey,
    NumberSequence,
    Practitioner,
    RegisterEntry,
)
from tests.employers.helpers import employer

ACTOR = Actor(id=None, label="system: import-register")


def details(number: str | None, born: date, state: str = "registered") -> service.EntryIn:
    return service.EntryIn(
        person=service.PersonIn(" Aled  ", "Evans", born, email=" Aled@Example.org "),
        role_codes=["senior_probation_officer", "probation_officer", "probation_officer"],
        region_code="east_midlands",
        registered_since=date(2012, 5, 1),
        registered_until=date(2027, 11, 30),
        qualifications=[
            service.QualificationIn("pqip", date(2011, 7, 1), " Open University "),
            service.QualificationIn("dips", date(2010, 7, 1)),
        ],
        state=EntryState(state),
        registration_number=number,
    )


async def everything_about(number: str) -> dict[str, Any]:
    """What the register, certificates, audit trail and outbox hold about one entry, with what
    differs between any two entries by nature (ids, numbers, serials, times) left out."""
    entry = await RegisterEntry.select().where(RegisterEntry.registration_number == number).first()
    assert entry is not None
    entry_id = entry.pop("id")
    person = await Practitioner.select().where(Practitioner.id == entry.pop("practitioner")).first()
    assert person is not None
    serials = [c["serial"] for c in await Certificate.select().where(Certificate.entry == entry_id)]
    public = json.loads(entry.pop("public_document"))
    public.pop("updated_at")
    found = {
        "entry": _without(entry, "registration_number", "status_changed_at", "updated_at"),
        "public": public,
        "person": _without(person, "id", "date_of_birth", "created_at"),
        "roles": [
            r["role"]
            for r in await EntryRole.select(EntryRole.role)
            .where(EntryRole.entry == entry_id)
            .order_by(EntryRole.id)
        ],
        "qualifications": [
            _without(q, "id", "entry")
            for q in await EntryQualification.select()
            .where(EntryQualification.entry == entry_id)
            .order_by(EntryQualification.id)
        ],
        "name_keys": sorted(
            (k["key"], k["name"], k["region"], k["status"])
            for k in await NameKey.select().where(NameKey.entry == entry_id)
        ),
        "history": [
            _without(h, "id", "entry", "changed_at")
            for h in await EntryHistory.select()
            .where(EntryHistory.entry == entry_id)
            .order_by(EntryHistory.id)
        ],
        "audit": [
            _without(a, "id", "occurred_at", "prev_hash", "hash")
            for a in await AuditEntry.select()
            .where(AuditEntry.target_id.is_in([number, *serials]))
            .order_by(AuditEntry.id)
        ],
        "certificates": [],
        "events": [
            _without(e, "id", "message", "occurred_at", "event_id")
            for e in await WebhookEvent.select().where(WebhookEvent.registration_number == number)
        ],
    }
    for serial in serials:
        record = await certificates.get(serial)
        verification = await certificates.verify(serial)
        assert verification.valid, verification.verdict
        credential = record.credential
        credential.pop("proof")
        credential.pop("validFrom")  # the moment of issue, to the second
        credential["credentialStatus"] = [
            {k: v for k, v in status.items() if k in ("type", "statusPurpose")}
            for status in credential["credentialStatus"]
        ]
        found["certificates"].append(
            {
                "kind": record.kind,
                "certified": record.certified,
                "credential": credential,
                "suspended": record.suspended,
                "revoked_at": record.revoked_at,
                "valid_until": record.valid_until,
            }
        )
    events = await WebhookEvent.select().where(WebhookEvent.registration_number == number)
    for message in await OutboxMessage.select().where(
        OutboxMessage.id.is_in([e["message"] for e in events] or [0])
    ):
        body = _without(json.loads(message["body"]), "id", "occurred_at", "registration_number")
        found["events"].append({"event": message["event"], "kind": message["kind"], **body})
    return _masked(found, number, serials)


def _without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in names}


def _masked(found: dict[str, Any], number: str, serials: list[str]) -> dict[str, Any]:
    text = json.dumps(found, sort_keys=True, default=str).replace(number, "NUMBER")
    for n, serial in enumerate(serials):
        text = text.replace(serial, f"SERIAL{n}").replace(
            certificate_serials.display(serial), f"SERIAL{n}"
        )
    masked: dict[str, Any] = json.loads(text)
    return masked


@pytest.mark.parametrize("state", ["registered", "lapsed"])
async def test_an_entry_made_in_a_batch_has_all_that_one_made_alone_has(
    engine: Any, settings: Settings, state: str
) -> None:
    north = await employer()
    await watchlists.add_endpoint(
        north.organisation.id,
        "https://hooks.example.org/register",
        environment="development",
        secret_key=settings.secret_key,
        by_user_id=None,
    )
    alone, batched = numbers.registration_number(900001), numbers.registration_number(900002)
    for number in (alone, batched):
        await watchlists.add(north.organisation.id, number)
    told: list[hooks.EntryChange] = []

    async def listen(change: hooks.EntryChange) -> None:
        told.append(change)

    with acting_as(ACTOR), hooks.extra_sources(change_subscribers=[listen]):
        await service.create_entry(
            details(alone, date(1979, 2, 11), state), reason="Imported from a.csv, line 2"
        )
        made = await service.create_entries(
            [
                service.NewEntry(
                    details(batched, date(1979, 2, 12), state), "Imported from a.csv, line 2"
                )
            ]
        )
    assert made == [batched]
    one, other = await everything_about(alone), await everything_about(batched)
    assert one == other
    assert one["certificates"] if state == "registered" else not one["certificates"]
    assert len(one["events"]) == 2  # the event log's row and the outbox message's body
    assert [(c.previous_status, c.status, c.cause) for c in told] == [("", state, "created")] * 2
    assert (await audit.verify_chain()).ok


async def test_a_batch_takes_new_numbers_in_order_stepping_over_those_taken(
    engine: Any,
) -> None:
    row = await NumberSequence.select(NumberSequence.next_value).first()
    assert row is not None
    upcoming = [numbers.registration_number(int(row["next_value"]) + n) for n in range(4)]
    made = await service.create_entries(
        [
            service.NewEntry(details(None, date(1980, 1, 1)), "Test"),
            service.NewEntry(details(upcoming[1], date(1980, 1, 2)), "Test"),
            service.NewEntry(details(None, date(1980, 1, 3)), "Test"),
        ]
    )
    assert made == [upcoming[0], upcoming[1], upcoming[2]]
    names = {
        r["registration_number"]: r["date_of_birth"]
        for r in await RegisterEntry.raw(
            "SELECT e.registration_number, p.date_of_birth FROM register_entry e"
            " JOIN register_practitioner p ON p.id = e.practitioner"
        )
    }
    assert {k: str(v) for k, v in names.items()} == {
        upcoming[0]: "1980-01-01",
        upcoming[1]: "1980-01-02",
        upcoming[2]: "1980-01-03",
    }
    later = await service.create_entry(details(None, date(1980, 1, 4)), reason="Test")
    assert later.registration_number == upcoming[3]


async def test_a_batch_with_a_number_on_the_register_writes_nothing(engine: Any) -> None:
    taken = numbers.registration_number(900001)
    await service.create_entry(details(taken, date(1980, 1, 1)), reason="Test")
    before = (await RegisterEntry.count(), await AuditEntry.count(), await EntryHistory.count())
    with pytest.raises(Conflict, match="already on the register"):
        await service.create_entries(
            [
                service.NewEntry(details(None, date(1980, 1, 2)), "Test"),
                service.NewEntry(details(taken, date(1980, 1, 3)), "Test"),
            ]
        )
    after = (await RegisterEntry.count(), await AuditEntry.count(), await EntryHistory.count())
    assert after == before
