"""Fitness to practise: concerns, cases and their workflow, sanctions and interim orders."""

from __future__ import annotations

from pathlib import Path

from registry.conduct.reference import REFERENCE_LISTS
from registry.conduct.register_effect import JOBS, has_open_case, restrictions
from registry.conduct.tables import CONDUCT_TABLES
from registry.core.domain import Domain

DOMAIN = Domain(
    name="conduct",
    jobs=JOBS,
    tables=CONDUCT_TABLES,
    email_templates=Path(__file__).resolve().parent / "templates" / "email",
    reference_lists=REFERENCE_LISTS,
    restriction_sources=[restrictions],
    concern_sources=[has_open_case],
)
