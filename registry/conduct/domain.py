"""Fitness to practise: concerns, cases and their workflow, sanctions and interim orders."""

from __future__ import annotations

from pathlib import Path

from registry.accounts.access import PRACTITIONER, PUBLIC, Rule
from registry.accounts.roles import Role
from registry.conduct import concerns
from registry.conduct.api import API
from registry.conduct.demo import seed_demo_conduct
from registry.conduct.pages import ConcernPages, PublicationPages
from registry.conduct.practitioner_pages import PractitionerCasePages
from registry.conduct.reference import REFERENCE_LISTS
from registry.conduct.register_effect import JOBS, has_open_case, restrictions
from registry.conduct.service import HAS_OPEN_CASE, practitioner_facts
from registry.conduct.staff_pages import STAFF_PAGES
from registry.conduct.subject_access import SUBJECT_ACCESS
from registry.conduct.tables import CONDUCT_TABLES
from registry.core.domain import Domain, NavItem, Visitor, knowing

FTP_STAFF = Rule(roles=frozenset({Role.caseworker, Role.case_examiner, Role.adjudicator}))
CASEWORKER = Rule(roles=frozenset({Role.caseworker}))
ADJUDICATOR = Rule(roles=frozenset({Role.adjudicator}))


def ftp_staff(visitor: Visitor) -> bool:
    """Fully signed in with a fitness to practise role: the workspace is in their navigation."""
    return (
        visitor is not None
        and visitor.fully_signed_in
        and bool(FTP_STAFF.roles & set(visitor.roles))
    )


DOMAIN = Domain(
    name="conduct",
    api=API,
    pages=[ConcernPages, PublicationPages, PractitionerCasePages, *STAFF_PAGES],
    access={
        # anyone raises a concern; the published decisions and hearings are public
        "api_concern_raise": PUBLIC,
        "api_concern_attachment_upload": PUBLIC,
        "api_register_decisions": PUBLIC,
        "api_register_decision": PUBLIC,
        "api_hearings": PUBLIC,
        # the same as pages: the concern form (no account), decisions, hearings
        "conduct_concern_start": PUBLIC,
        "conduct_concern_submit": PUBLIC,
        "conduct_decisions": PUBLIC,
        "conduct_decision": PUBLIC,
        "conduct_decision_pdf": PUBLIC,
        "conduct_hearings": PUBLIC,
        # fitness to practise staff (the workflow says which role makes which move)
        "api_cases": FTP_STAFF,
        "api_case": FTP_STAFF,
        "api_case_move": FTP_STAFF,
        "api_case_open": CASEWORKER,
        "api_case_assign": CASEWORKER,
        "api_case_identify": CASEWORKER,
        "api_conduct_timeliness": FTP_STAFF,
        "api_conduct_timeliness_csv": FTP_STAFF,
        "api_case_document": FTP_STAFF,
        "api_case_document_disclose": CASEWORKER,
        "api_case_interim_order": ADJUDICATOR,
        "api_interim_order_review": ADJUDICATOR,
        # the staff workspace on pages: the same rows as the API's
        "conduct_staff_cases": FTP_STAFF,
        "conduct_staff_case": FTP_STAFF,
        "conduct_staff_case_move": FTP_STAFF,
        "conduct_staff_case_assign": CASEWORKER,
        "conduct_staff_case_document": FTP_STAFF,
        "conduct_staff_case_disclose": CASEWORKER,
        "conduct_staff_case_identify": CASEWORKER,
        "conduct_staff_interim_order": ADJUDICATOR,
        "conduct_staff_interim_review": ADJUDICATOR,
        "conduct_staff_timeliness": FTP_STAFF,
        # the practitioner's own cases
        "api_my_cases": PRACTITIONER,
        "api_my_case": PRACTITIONER,
        "api_my_case_respond": PRACTITIONER,
        "api_my_case_outcome": PRACTITIONER,
        "api_my_case_document": PRACTITIONER,
        # the same as pages
        "conduct_your_cases": PRACTITIONER,
        "conduct_your_case": PRACTITIONER,
        "conduct_your_case_respond": PRACTITIONER,
        "conduct_your_case_outcome": PRACTITIONER,
        "conduct_your_case_answer": PRACTITIONER,
        "conduct_your_case_document": PRACTITIONER,
    },
    navigation=[
        NavItem("/your-cases", "Your cases", knowing(HAS_OPEN_CASE, role="practitioner"), 33),
        NavItem("/conduct/cases", "Fitness to practise cases", ftp_staff, position=46),
        NavItem("/conduct/timeliness", "Case timeliness", ftp_staff, position=47),
    ],
    visitor_facts=[practitioner_facts],
    jobs=[*JOBS, *concerns.JOBS],
    demo_seeders=[seed_demo_conduct],
    tables=CONDUCT_TABLES,
    email_templates=Path(__file__).resolve().parent / "templates" / "email",
    reference_lists=REFERENCE_LISTS,
    restriction_sources=[restrictions],
    concern_sources=[has_open_case],
    subject_access=[SUBJECT_ACCESS],
)
