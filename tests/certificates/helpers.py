"""Reading certificates and their bits for tests, the way a verifier outside would."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from registry.certificates import keys, service, status_lists
from registry.certificates.tables import Certificate, CertificateKind
from registry.config import Settings


async def registration_certificates(entry_id: int) -> list[service.CertificateRecord]:
    """Every registration certificate of the entry, oldest first."""
    found = await service.certificates_of(entry_id)
    return [
        item.certificate
        for item in reversed(found)
        if item.certificate.kind is CertificateKind.registration
    ]


async def live_certificate(entry_id: int) -> service.CertificateRecord:
    live = [c for c in await registration_certificates(entry_id) if c.revoked_at is None]
    assert len(live) == 1, live
    return live[0]


async def bits(record: service.CertificateRecord) -> dict[str, bool]:
    """The certificate's two bits as the served, signed status lists say them."""
    said: dict[str, bool] = {}
    for entry in record.credential["credentialStatus"]:
        name = entry["statusListCredential"].rsplit("/", 1)[-1]
        served = await status_lists.served(name)
        said[entry["statusPurpose"]] = status_lists.bit_at(
            served.encoded, int(entry["statusListIndex"])
        )
    return said


async def set_bits() -> dict[str, int]:
    """How many bits each purpose has set, over every certificate."""
    revoked = await Certificate.count().where(Certificate.revoked_at.is_not_null())
    suspended = await Certificate.count().where(Certificate.suspended.eq(True))
    return {"revocation": revoked, "suspension": suspended}


@contextlib.contextmanager
def issuer_keeping_keys_in(data_dir: Path, settings: Settings) -> Iterator[None]:
    """Sign with keys of a folder of the test's own inside the block (so rotating them leaves
    the session's keys alone), then with the session's again."""
    keys.configure(settings.model_copy(update={"data_dir": data_dir}))
    try:
        yield
    finally:
        keys.configure(settings)
