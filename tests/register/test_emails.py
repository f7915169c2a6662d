"""The emails that confirm a renewal and leaving the register: queued with the change, to the
practitioner, and never when the change is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from registry.accounts.roles import Role
from registry.config import Settings
from registry.core import clock
from registry.errors import Conflict, PermissionDenied
from registry.notifications import emails as rendering
from registry.notifications.tables import OutboxMessage
from registry.register import hooks, renewals, service
from registry.register.renewals import Declarations, RenewalCalendar
from registry.register.tables import EntryState, Practitioner
from tests.accounts.helpers import make_user
from tests.register.helpers import put_on_register
from tests.support import exempt_from_cpd

CALENDAR = RenewalCalendar()
DEADLINE = date(2026, 11, 30)
NOTHING_TO_DECLARE = Declarations(character=False, health=False)


def at(day: date) -> Any:
    return clock.frozen_at(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10))


async def queued() -> list[dict[str, Any]]:
    return list(await OutboxMessage.select().order_by(OutboxMessage.id))


def rendered(message: dict[str, Any], settings: Settings) -> str:
    text, _ = rendering.render(message["template"], json.loads(message["body"]), settings)
    return text


@pytest.fixture
def open_concern() -> Iterator[None]:
    async def always_open(practitioner_id: int) -> bool:
        return True

    with hooks.extra_sources(concern_sources=[always_open]):
        yield


# --- renewing ------------------------------------------------------------------------------


async def test_a_renewal_is_confirmed_by_email_with_the_new_date(
    engine: Any, settings: Settings
) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    entry = await put_on_register("Pat", "Renewer", until=DEADLINE, account_id=account.id)
    await exempt_from_cpd(entry.id)
    with at(date(2026, 10, 5)):
        await renewals.renew(entry.id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=account.id)

    [message] = await queued()
    assert message["recipient"] == "pat.renewer@example.org"  # the address on the register
    assert message["template"] == "renewal_confirmed"
    assert message["subject"] == "You have renewed your registration until 30 November 2027"
    text = rendered(message, settings)
    assert "Dear Pat," in text
    assert f"You have renewed your registration {entry.registration_number}" in text
    assert "You are now registered until 30 November 2027." in text
    assert f"{settings.base_url}/your-registration" in text


@pytest.mark.parametrize(
    ("day", "by_someone_else", "refusal"),
    [
        (date(2026, 8, 31), False, Conflict),  # before the window opens
        (date(2026, 10, 5), True, PermissionDenied),  # not their own entry
    ],
)
async def test_a_refused_renewal_queues_no_email(
    engine: Any, day: date, by_someone_else: bool, refusal: type[Exception]
) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    other = await make_user(Role.practitioner, "other@example.org")
    entry = await put_on_register("Pat", "Renewer", until=DEADLINE, account_id=account.id)
    await exempt_from_cpd(entry.id)
    with at(day), pytest.raises(refusal):
        await renewals.renew(
            entry.id,
            NOTHING_TO_DECLARE,
            calendar=CALENDAR,
            by_user_id=other.id if by_someone_else else account.id,
        )
    assert await queued() == []


async def test_renewing_twice_is_refused_and_confirmed_once(engine: Any) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    entry = await put_on_register("Pat", "Renewer", until=DEADLINE, account_id=account.id)
    await exempt_from_cpd(entry.id)
    with at(date(2026, 10, 5)):
        await renewals.renew(entry.id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=account.id)
        with pytest.raises(Conflict):
            await renewals.renew(
                entry.id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=account.id
            )
    assert [m["template"] for m in await queued()] == ["renewal_confirmed"]


async def test_an_entry_with_no_email_address_renews_without_an_email(engine: Any) -> None:
    account = await make_user(Role.practitioner, "pat@example.org")
    entry = await put_on_register("Pat", "Imported", until=DEADLINE, account_id=account.id)
    await exempt_from_cpd(entry.id)
    await Practitioner.update({Practitioner.email: ""}).where(
        Practitioner.id == entry.practitioner_id
    )
    with at(date(2026, 10, 5)):
        renewed = await renewals.renew(
            entry.id, NOTHING_TO_DECLARE, calendar=CALENDAR, by_user_id=account.id
        )
    assert renewed.public.registered_until == date(2027, 11, 30)
    assert await queued() == []


# --- leaving ------------------------------------------------------------------------------


async def test_leaving_the_register_is_confirmed_by_email(engine: Any, settings: Settings) -> None:
    entry = await put_on_register("Lee", "Leaver")
    with at(date(2026, 6, 12)):
        await service.request_voluntary_removal(entry.id, reason="Retiring")

    [message] = await queued()
    assert message["recipient"] == "lee.leaver@example.org"
    assert message["template"] == "left_register"
    assert message["subject"] == f"You have left the register: {entry.registration_number}"
    text = rendered(message, settings)
    assert "Dear Lee," in text
    assert "You left the register of probation practitioners on 12 June 2026." in text
    assert "voluntarily removed" in text
    assert f"{settings.base_url}/apply/restoration" in text
    assert f"{settings.base_url}/your-registration" in text


async def test_leaving_while_a_concern_is_open_queues_no_email(
    engine: Any, open_concern: None
) -> None:
    entry = await put_on_register("Lee", "Leaver")
    with pytest.raises(Conflict, match="while a concern"):
        await service.request_voluntary_removal(entry.id, reason="Retiring")
    assert await queued() == []


async def test_leaving_twice_is_refused_and_confirmed_once(engine: Any) -> None:
    entry = await put_on_register("Lee", "Leaver")
    await service.request_voluntary_removal(entry.id, reason="Retiring")
    with pytest.raises(Conflict, match="already voluntarily removed"):
        await service.request_voluntary_removal(entry.id, reason="Retiring")
    assert [m["template"] for m in await queued()] == ["left_register"]


async def test_a_failure_to_queue_the_email_leaves_the_entry_on_the_register(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await put_on_register("Lee", "Leaver")

    async def outbox_down(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("registry.notifications.service.queue_email", outbox_down)
    with pytest.raises(RuntimeError):
        await service.request_voluntary_removal(entry.id, reason="Retiring")
    assert (await service.get_entry(entry.id)).state is EntryState.registered
