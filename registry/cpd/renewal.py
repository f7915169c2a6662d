"""The renewal's tie-in to CPD: an entry renews only once the closing year's requirement is met,
its targets shrunk pro rata by any exemption a registrar granted. The register asks through the
CPD domain's manifest (``renewal_checks``); it never imports CPD."""

from __future__ import annotations

from datetime import date

from registry.cpd import packs, progress
from registry.cpd.activities import Owner
from registry.register.hooks import RenewalShortfall
from registry.register.tables import RegisterEntry

# --- the renewal's check (the register asks through the domain manifest) -----------------


async def renewal_check(
    entry_id: int, year: int, first: date, last: date
) -> list[RenewalShortfall]:
    """What is missing from the entry's CPD for ``year`` before it may renew."""
    row = (
        await RegisterEntry.select(
            RegisterEntry.practitioner,
            RegisterEntry.registered_since,
            RegisterEntry.practitioner.account.as_alias("account"),
        )
        .where(RegisterEntry.id == entry_id)
        .first()
    )
    if row is None:
        return []
    owner = Owner(
        row["account"] or 0, row["practitioner"], entry_id, packs.as_date(row["registered_since"])
    )
    standing = await progress.progress_between(owner, year, first, last, declared=set())
    return [
        RenewalShortfall(
            text=f"{rule.label}: {rule.summary}, {rule.needed_text}",
            href="/cpd/activities/new",
            link_text=f"Log an activity ({rule.label.lower()})",
        )
        for rule in standing.rules
        if not rule.met
    ]
