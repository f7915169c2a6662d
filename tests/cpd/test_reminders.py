"""The CPD reminder 90 days before the deadline: to those short of it, once each, saying what."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from registry.config import Settings
from registry.core import clock
from registry.cpd.reminders import queue_shortfall_reminders
from registry.notifications import emails
from registry.notifications.tables import OutboxMessage
from tests.cpd.helpers import CALENDAR, declare_the_year, log, practitioner_with_record


async def _reminders() -> list[dict[str, Any]]:
    return list(
        await OutboxMessage.select(
            OutboxMessage.recipient, OutboxMessage.idempotency_key, OutboxMessage.body
        )
        .where(OutboxMessage.template == "cpd_shortfall_reminder")
        .order_by(OutboxMessage.id)
    )


async def test_those_short_90_days_before_the_deadline_are_reminded_once(
    engine: Any, settings: Settings
) -> None:
    short = await practitioner_with_record("short@example.org")
    await log(short, hours=Decimal("12.5"))
    met = await practitioner_with_record("met@example.org")
    for number, area in enumerate(("ethics", "victims", "desistance")):
        await log(
            met,
            hours=Decimal(10),
            practice_areas=[area],
            what_happened="A",
            what_learned="B",
            practice_changed="C",
            peer_reflection=number == 0,
            peer_role="Tutor" if number == 0 else "",
        )
    renewed = await practitioner_with_record("renewed@example.org")

    assert await queue_shortfall_reminders(date(2027, 8, 31), CALENDAR) == 0  # 91 days before
    with clock.frozen_at(clock.now().replace(month=9, day=10)):
        await declare_the_year(renewed)
    assert await queue_shortfall_reminders(date(2027, 9, 1), CALENDAR) == 1  # 90 days before
    assert await queue_shortfall_reminders(date(2027, 9, 1), CALENDAR) == 0  # run again
    assert await queue_shortfall_reminders(date(2027, 10, 15), CALENDAR) == 0  # a later day

    [reminder] = await _reminders()
    assert reminder["recipient"] == "pat.short@example.org"  # the register's address for them
    assert reminder["idempotency_key"].endswith(":2027")
    body = json.loads(reminder["body"])
    assert body["missing"][0] == "Total hours: 12.5 / 30 hours, 17.5 more hours"
    text, _html = emails.render("cpd_shortfall_reminder", body, settings)
    assert "Still to do:" in text
    assert "- Total hours: 12.5 / 30 hours, 17.5 more hours" in text
    assert "/cpd" in text
