"""Who a user is to the regulator. A user may hold several roles (staff often do)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    practitioner = "practitioner"
    registrar = "registrar"
    cpd_assessor = "cpd_assessor"
    caseworker = "caseworker"
    case_examiner = "case_examiner"
    adjudicator = "adjudicator"
    employer = "employer"
    admin = "admin"


# Regulator staff: they must use a second factor, and their sessions idle out sooner.
STAFF_ROLES: frozenset[Role] = frozenset(
    {
        Role.registrar,
        Role.cpd_assessor,
        Role.caseworker,
        Role.case_examiner,
        Role.adjudicator,
        Role.admin,
    }
)

ROLE_LABELS: dict[Role, str] = {
    Role.practitioner: "Practitioner",
    Role.registrar: "Registrar",
    Role.cpd_assessor: "CPD assessor",
    Role.caseworker: "Fitness to practise caseworker",
    Role.case_examiner: "Case examiner",
    Role.adjudicator: "Adjudicator",
    Role.employer: "Employer",
    Role.admin: "Administrator",
}


def is_staff(roles: frozenset[Role] | set[Role]) -> bool:
    return bool(STAFF_ROLES & set(roles))
