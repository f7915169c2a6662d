"""CPD: standards and practice areas, rule packs, the activity log and progress."""

from __future__ import annotations

from registry.core.domain import Domain
from registry.cpd.reference import REFERENCE_LISTS
from registry.cpd.tables import CPD_TABLES

DOMAIN = Domain(
    name="cpd",
    tables=CPD_TABLES,
    reference_lists=REFERENCE_LISTS,
)
