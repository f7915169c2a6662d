"""Employers: organisations, their API keys, and bulk checks of registration numbers."""

from __future__ import annotations

from registry.core.domain import Domain
from registry.employers.tables import EMPLOYER_TABLES

DOMAIN = Domain(name="employers", tables=EMPLOYER_TABLES)
