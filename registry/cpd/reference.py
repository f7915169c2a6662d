"""CPD's reference data: the standards of CPD and the practice areas, kept by admins with the
register's lists at /admin/reference (the shared rules of :mod:`registry.core.reference`)."""

from __future__ import annotations

from registry.core.reference import ReferenceList
from registry.cpd.tables import PracticeArea, Standard

USED_BY = "CPD activities"
IN_USE_QUESTION = "Can practitioners choose it for new activities?"
RENAMED_NOTE = "Activities that name it show the new name at once."

STANDARDS = ReferenceList(
    "cpd_standards",
    "Standards of CPD",
    "standard of CPD",
    Standard,
    "cpd",
    "SELECT standard AS item, COUNT(*) AS n FROM cpd_activity_standard GROUP BY standard",
    used_by=USED_BY,
    in_use_question=IN_USE_QUESTION,
    renamed_note=RENAMED_NOTE,
)
PRACTICE_AREAS = ReferenceList(
    "cpd_practice_areas",
    "CPD practice areas",
    "practice area",
    PracticeArea,
    "cpd",
    "SELECT practice_area AS item, COUNT(*) AS n FROM cpd_activity_practice_area"
    " GROUP BY practice_area",
    used_by=USED_BY,
    in_use_question=IN_USE_QUESTION,
    renamed_note=RENAMED_NOTE,
)
REFERENCE_LISTS = (STANDARDS, PRACTICE_AREAS)
