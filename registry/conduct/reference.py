"""Allegation categories: reference data kept by admins with the other lists at
/admin/reference (the shared rules of :mod:`registry.core.reference`)."""

from __future__ import annotations

from registry.conduct.tables import AllegationCategory
from registry.core.reference import ReferenceList

CATEGORIES = ReferenceList(
    "conduct_allegation_categories",
    "Allegation categories",
    "allegation category",
    AllegationCategory,
    "conduct",
    "SELECT category AS item, COUNT(*) AS n FROM conduct_concern_category GROUP BY category",
    used_by="Concerns",
    in_use_question="Can people choose it when they raise a concern?",
    renamed_note="Concerns that name it show the new name at once.",
)
REFERENCE_LISTS = (CATEGORIES,)
