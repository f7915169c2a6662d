"""The emails that confirm a practitioner's own changes to their registration: renewing it, and
leaving the register.

Each is queued through the outbox inside the change's transaction (the caller's), so a change
that is refused or rolls back sends nothing, and keyed by the change, so it is queued once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from registry.notifications import service as notifications
from registry.register import urls

if TYPE_CHECKING:
    from registry.register.service import Entry


def _long(day: date) -> str:
    return f"{day:%-d %B %Y}"


async def _email_practitioner(
    entry: Entry, template: str, *, subject: str, key: str, **details: str
) -> None:
    # An entry imported from an earlier register may have no email address: nobody to tell.
    if not entry.email:
        return
    await notifications.queue_email(
        entry.email,
        template,
        {
            "given_names": entry.public.given_names,
            "registration_number": entry.registration_number,
            "path": urls.YOUR_REGISTRATION,
            **details,
        },
        subject=subject,
        key=key,
    )


async def renewal_confirmed(entry: Entry) -> None:
    """Tell the practitioner their renewal is in, and the date they are now registered until."""
    until = entry.public.registered_until
    await _email_practitioner(
        entry,
        "renewal_confirmed",
        subject=f"You have renewed your registration until {_long(until)}",
        key=f"renewal-confirmed:{entry.registration_number}:{until.isoformat()}",
        registered_until=_long(until),
    )


async def left_register(entry: Entry, on: date) -> None:
    """Tell the practitioner they have left the register, and how to come back."""
    await _email_practitioner(
        entry,
        "left_register",
        subject=f"You have left the register: {entry.registration_number}",
        key=f"left-register:{entry.registration_number}:{entry.version}",
        left_on=_long(on),
        restoration_path=urls.APPLY_FOR_RESTORATION,
    )
