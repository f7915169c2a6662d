"""Putting people on the register for tests, through the register's own rules."""

from __future__ import annotations

from datetime import date

from registry.register import service


def person(
    given: str = "Jane", family: str = "Smith", born: date = date(1985, 3, 14)
) -> service.PersonIn:
    return service.PersonIn(given, family, born, email=f"{given}.{family}@example.org".lower())


async def put_on_register(
    given: str = "Jane",
    family: str = "Smith",
    *,
    roles: tuple[str, ...] = ("probation_officer",),
    region: str = "london",
    until: date = date(2027, 11, 30),
    account_id: int | None = None,
) -> service.Entry:
    return await service.create_entry(
        service.EntryIn(
            person=person(given, family),
            role_codes=roles,
            region_code=region,
            registered_since=date(2020, 4, 1),
            registered_until=until,
            qualifications=[service.QualificationIn("pqip", date(2019, 7, 1))],
            account_id=account_id,
        ),
        reason="Test entry",
    )


async def register_history(entry_id: int) -> list[service.HistoryItem]:
    """The entry's history as the register writes it: certificates add their own items (each
    issue, suspension and revocation), which tests/certificates checks."""
    return [
        item
        for item in await service.history(entry_id)
        if not item.change.startswith("certificate_")
    ]
