"""A practitioner on the register with a CPD record, for the CPD tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from registry.accounts.roles import Role
from registry.cpd import activities
from registry.cpd.schemas import ActivityIn
from registry.register import renewals
from registry.register.renewals import Declarations, RenewalCalendar
from tests.accounts.helpers import SignedIn, user_signed_in_as
from tests.register.helpers import put_on_register
from tests.support import exempt_from_cpd

CALENDAR = RenewalCalendar()
# The tests' today: in registration year 2027 (1 December 2026 to 30 November 2027).
TODAY = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)


async def practitioner_with_record(email: str = "pat@example.org") -> SignedIn:
    """A signed-in practitioner whose entry runs from 1 April 2020."""
    person = await user_signed_in_as(Role.practitioner, email)
    await put_on_register("Pat", email.split("@")[0].capitalize(), account_id=person.account.id)
    return person


async def declare_the_year(person: SignedIn) -> activities.Owner:
    """``person`` renews (exempt from CPD: the renewal is not what the test is about), which
    declares the registration year of the clock's day: its CPD is final from then."""
    owner = await activities.owner_of(person.account.id)
    await exempt_from_cpd(owner.entry_id)
    await renewals.renew(
        owner.entry_id,
        Declarations(character=False),
        calendar=CALENDAR,
        by_user_id=person.account.id,
    )
    return owner


def activity(**changes: Any) -> ActivityIn:
    values: dict[str, Any] = {
        "title": "Risk assessment refresher",
        "done_on": date(2027, 1, 10),
        "hours": Decimal("1.5"),
        "activity_type": "formal_course",
        "participatory": True,
        "practice_areas": ["risk_assessment"],
        "standards": ["quality_of_practice"],
        "what_happened": "",
        "what_learned": "",
        "practice_changed": "",
        **changes,
    }
    return ActivityIn.model_validate(values)


async def log(person: SignedIn, **changes: Any) -> activities.ActivityRecord:
    return await activities.record(person.account.id, activity(**changes), CALENDAR)


def api_body(**changes: Any) -> dict[str, Any]:
    """An activity as the API takes it (JSON), with ``changes``."""
    return {
        "title": "Safeguarding update",
        "done_on": "2027-02-01",
        "hours": "2.5",
        "activity_type": "e_learning",
        "participatory": False,
        "practice_areas": ["public_protection"],
        "standards": ["quality_of_practice"],
        "what_happened": "Completed the module.",
        "what_learned": "The new referral route.",
        "practice_changed": "I refer sooner.",
        "peer_reflection": True,
        "peer_role": "Senior Probation Officer",
        **changes,
    }
