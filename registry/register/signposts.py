"""What a practitioner is shown first: where they land after signing in, and which of "Your
registration" and "Your application" the navigation offers them."""

from __future__ import annotations

from typing import Any

from registry.accounts.roles import Role
from registry.db import fetch_one
from registry.register import urls

ON_REGISTER = "on_register"
HAS_APPLICATION = "has_application"

# One read: does the account have an entry, and an application (of any status)?
_STANDING = (
    "SELECT EXISTS (SELECT 1 FROM register_entry e JOIN register_practitioner p"
    " ON p.id = e.practitioner WHERE p.account = {}) AS on_register,"
    " EXISTS (SELECT 1 FROM register_application a WHERE a.applicant = {}) AS has_application"
)


async def practitioner_facts(user_id: int, roles: frozenset[Any]) -> frozenset[str]:
    if Role.practitioner not in roles:
        return frozenset()
    row = await fetch_one(_STANDING, user_id, user_id)
    if row is None:
        return frozenset()
    if row["on_register"]:
        return frozenset({ON_REGISTER})
    return frozenset({HAS_APPLICATION}) if row["has_application"] else frozenset()


async def practitioner_landing(account: Any) -> str | None:
    """Their registration once they are on the register, their application while they have
    one, and otherwise the way to apply."""
    if Role.practitioner not in account.roles:
        return None
    facts = await practitioner_facts(account.id, account.roles)
    if ON_REGISTER in facts:
        return urls.YOUR_REGISTRATION
    if HAS_APPLICATION in facts:
        return urls.YOUR_APPLICATION
    return urls.APPLY
