"""Certificates follow the register in the transaction of each change, on both engines."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from registry.audit.tables import AuditEntry
from registry.certificates import keys, service
from registry.certificates.tables import Certificate
from registry.config import Settings
from registry.core import clock
from registry.db import transaction
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register import hooks, renewals
from registry.register import service as register
from registry.register.applications import workflow
from registry.register.service import EntryMove
from registry.register.tables import RegisterEntry
from tests.certificates.helpers import (
    bits,
    issuer_keeping_keys_in,
    live_certificate,
    registration_certificates,
    set_bits,
)
from tests.register.applying import CALENDAR, registrar, submitted_application
from tests.register.helpers import put_on_register

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
CLEAN = {"revocation": False, "suspension": False}


@pytest.fixture(autouse=True)
def advance_clock() -> Any:
    with clock.frozen_at(NOW) as advance:
        yield advance


def suspension_source(entry_id: int) -> hooks.RestrictionSource:
    async def source(entry_ids: Sequence[int], on: date) -> dict[int, list[hooks.Restriction]]:
        found = hooks.Restriction(
            hooks.RestrictionKind.interim_suspension,
            "Suspended while a case is investigated",
            date(2026, 11, 1),
            None,
            "https://example.org/decisions/1",
        )
        return {i: [found] if i == entry_id else [] for i in entry_ids}

    return source


async def audit_actions() -> list[str]:
    rows = await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)
    return [r["action"] for r in rows if r["action"].startswith("certificates.")]


async def test_a_new_entry_gets_a_signed_certificate_that_verifies(engine: Any) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    assert certificate.certified["registrationNumber"] == entry.registration_number
    assert certificate.certified["roles"] == ["Probation Officer"]
    assert certificate.credential["validUntil"] == "2027-11-30T23:59:59Z"
    assert await bits(certificate) == CLEAN

    found = await service.verify(certificate.display_serial.lower())
    assert found.valid
    assert found.verdict == "Valid: Jane Smith is registered with no restrictions"
    assert [c.name for c in found.checks] == [
        "signature_valid",
        "issued_by_register",
        "not_revoked",
        "not_suspended",
        "not_expired",
        "registered",
    ]
    assert all(c.passed for c in found.checks)
    history = [h.change for h in await register.history(entry.id)]
    assert "certificate_issued" in history
    assert await audit_actions() == ["certificates.issued"]


async def test_suspension_sets_only_the_suspension_bit_and_its_end_clears_it(engine: Any) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    with hooks.extra_sources(restriction_sources=[suspension_source(entry.id)]):
        async with transaction():
            await register.refresh_entry(entry.id, NOW.date())
            # in the same transaction as the register change
            assert await bits(certificate) == {"revocation": False, "suspension": True}
    found = await service.verify(certificate.serial)
    assert not found.valid
    assert not found.check("not_suspended").passed
    assert found.check("not_revoked").passed
    assert found.verdict == "Not valid: Jane Smith is suspended from the register"
    assert await live_certificate(entry.id) == await service.get(certificate.serial)

    await register.refresh_entry(entry.id, NOW.date())  # the order ended
    assert await bits(certificate) == CLEAN
    assert (await service.verify(certificate.serial)).valid
    assert await audit_actions() == [
        "certificates.issued",
        "certificates.suspended",
        "certificates.suspension_ended",
    ]


async def test_renewal_issues_a_new_certificate_and_revokes_the_old(engine: Any) -> None:
    entry = await put_on_register("Jane", "Smith")
    old = await live_certificate(entry.id)
    await register.move_entry(
        entry.id,
        EntryMove.renewal,
        reason="Renewed",
        values={RegisterEntry.registered_until: date(2028, 11, 30)},
    )
    new = await live_certificate(entry.id)
    assert new.serial != old.serial
    assert new.certified["registeredUntil"] == "2028-11-30"
    assert await bits(new) == CLEAN
    assert await bits(await service.get(old.serial)) == {"revocation": True, "suspension": False}
    answer = await service.verify(old.serial)
    assert answer.verdict == (
        f"Not valid: this certificate was revoked on 27 November 2026 because replaced by "
        f"certificate {new.display_serial}"
    )
    assert (await service.get(old.serial)).superseded_by == new.id


async def test_a_new_name_supersedes_the_certificate(engine: Any) -> None:
    entry = await put_on_register("Jane", "Smith")
    old = await live_certificate(entry.id)
    await register.change_name(entry.id, "Jane", "Okafor", reason="Marriage")
    new = await live_certificate(entry.id)
    assert new.certified["name"] == "Jane Okafor"
    assert (await service.get(old.serial)).revoked_at is not None
    assert (await service.verify(new.serial)).verdict.startswith("Valid: Jane Okafor")


async def test_the_lapse_job_revokes_with_the_reason(engine: Any, advance_clock: Any) -> None:
    entry = await put_on_register("Jane", "Smith", until=date(2026, 11, 30))
    certificate = await live_certificate(entry.id)
    advance_clock(timedelta(days=30))
    assert await renewals.lapse_overdue(clock.now().date(), renewals.RenewalCalendar()) == 1
    assert await bits(certificate) == {"revocation": True, "suspension": False}
    answer = await service.verify(certificate.serial)
    assert answer.verdict == (
        "Not valid: this certificate was revoked on 27 December 2026 because the registration "
        "lapsed"
    )
    assert answer.status == "lapsed"
    assert not answer.check("registered").passed


@pytest.mark.parametrize(
    ("move", "because"),
    [
        (EntryMove.voluntary_removal, "the practitioner left the register"),
        (EntryMove.removal, "the practitioner was removed from the register"),
    ],
)
async def test_leaving_or_removal_revokes(engine: Any, move: EntryMove, because: str) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    before = await set_bits()
    await register.move_entry(entry.id, move, reason="test")
    assert await bits(certificate) == {"revocation": True, "suspension": False}
    assert await set_bits() == {**before, "revocation": before["revocation"] + 1}
    assert (await service.verify(certificate.serial)).verdict.endswith(f"because {because}")


async def test_restoration_issues_a_fresh_certificate(engine: Any) -> None:
    entry = await put_on_register("Jane", "Smith")
    await register.move_entry(entry.id, EntryMove.lapse, reason="test")
    assert all(c.revoked_at for c in await registration_certificates(entry.id))
    await register.move_entry(entry.id, EntryMove.restoration, reason="Restored")
    assert (await service.verify((await live_certificate(entry.id)).serial)).valid
    assert len(await registration_certificates(entry.id)) == 2


async def test_a_change_that_rolls_back_leaves_every_bit_as_it_was(engine: Any) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)

    class Abandoned(Exception):
        pass

    async def lapse_then_abandon() -> None:
        async with transaction():
            await register.move_entry(entry.id, EntryMove.lapse, reason="test")
            raise Abandoned

    with pytest.raises(Abandoned):
        await lapse_then_abandon()
    assert await bits(certificate) == CLEAN
    assert (await service.verify(certificate.serial)).valid


async def test_concurrent_issues_never_share_a_status_index(engine: Any) -> None:
    entries = await asyncio.gather(
        *(put_on_register(f"Person{chr(65 + i)}", "Smith") for i in range(12))
    )
    rows = await Certificate.select(
        Certificate.revocation_list, Certificate.revocation_index, Certificate.suspension_index
    )
    assert len(rows) == len(entries)
    assert len({(r["revocation_list"], r["revocation_index"]) for r in rows}) == len(rows)
    assert len({r["suspension_index"] for r in rows}) == len(rows)


async def test_staff_revoke_and_reissue_are_audited(engine: Any) -> None:
    entry = await put_on_register("Jane", "Smith")
    first = await live_certificate(entry.id)
    with pytest.raises(InvalidInput):
        await service.revoke(first.serial, reason=" ")
    second = await service.reissue(first.serial, reason="Lost in the post")
    assert (await service.get(first.serial)).superseded_by == second.id
    revoked = await service.revoke(second.serial, reason="Issued in error")
    assert revoked.revocation_reason == "Issued in error"
    assert (await service.verify(second.serial)).verdict == (
        "Not valid: this certificate was revoked on 27 November 2026 because issued in error"
    )
    with pytest.raises(Conflict, match="revoked already"):
        await service.revoke(second.serial, reason="again")
    assert await audit_actions() == [
        "certificates.issued",
        "certificates.superseded",
        "certificates.issued",
        "certificates.revoked",
    ]
    listed = await service.certificates_of(entry.id)
    assert [item.verification.valid for item in listed] == [False, False]


async def test_a_cpd_statement_is_issued_and_verifies(engine: Any) -> None:
    entry = await put_on_register("Jane", "Smith")
    statement = await service.issue_cpd_statement(
        entry.id,
        year=2026,
        summary={"hours": 32.5, "requirement_met": True},
        valid_until=date(2027, 11, 30),
        reason="CPD year 2026 met",
    )
    assert statement.credential["type"] == ["VerifiableCredential", "ProbationCPDStatement"]
    assert (await service.verify(statement.serial)).valid


async def test_unknown_and_malformed_serials(engine: Any) -> None:
    with pytest.raises(NotFound, match="No certificate has the serial"):
        await service.verify("0000-0000-0000-0000-0000-0000-000")
    with pytest.raises(InvalidInput, match="not a certificate serial"):
        await service.verify("hello")


async def test_approving_an_application_issues_the_certificate(
    engine: Any, migrated: Settings
) -> None:
    record = await submitted_application(migrated.data_dir)
    approved = await workflow.approve(
        record.id, registrar_id=(await registrar()).id, calendar=CALENDAR
    )
    assert approved.entry_id is not None
    certificate = await live_certificate(approved.entry_id)
    answer = await service.verify(certificate.serial)
    assert answer.verdict == "Valid: Amara Okoye is registered with no restrictions"
    assert answer.registration_number == approved.registration_number


async def test_rotating_the_key_keeps_earlier_certificates_valid(
    engine: Any, migrated: Settings, tmp_path: Path
) -> None:
    with issuer_keeping_keys_in(tmp_path, migrated):
        entry = await put_on_register("Jane", "Smith")
        before = await live_certificate(entry.id)
        keys.rotate(tmp_path)
        statement = await service.issue_cpd_statement(
            entry.id, year=2026, summary={"hours": 30}, valid_until=date(2027, 11, 30), reason="t"
        )
        assert before.credential["proof"]["verificationMethod"].endswith("#key-1")
        assert statement.credential["proof"]["verificationMethod"].endswith("#key-2")
        assert (await service.verify(before.serial)).valid
        assert (await service.verify(statement.serial)).valid
    # checked against other keys under the same key id, the signature does not hold
    foreign = await service.verify(before.serial)
    assert not foreign.check("signature_valid").passed
    assert foreign.verdict.startswith("Not valid: the signature does not match the document")
