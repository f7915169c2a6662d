"""The register: entries and their status, the public search, applications, renewal and
removal, reference data and open data."""

from __future__ import annotations

from pathlib import Path

from registry.accounts.access import ADMIN, PRACTITIONER, PUBLIC, REGISTRAR
from registry.core.domain import Domain, NavItem, anyone, holding, knowing, not_knowing
from registry.register.api import PublicRegisterController
from registry.register.application_pages import (
    ApplicationPages,
    RegistrarApplicationPages,
    YourApplicationPages,
)
from registry.register.cli import import_register
from registry.register.demo import seed_demo_register
from registry.register.demo_applications import seed_demo_applications
from registry.register.jobs import JOBS
from registry.register.opendata import OpenDataController
from registry.register.pages import PublicRegisterPages
from registry.register.practitioner_pages import YourRegistrationPages
from registry.register.reference import LISTS as REFERENCE_LISTS
from registry.register.reference_pages import ReferenceDataPages
from registry.register.signposts import HAS_APPLICATION, practitioner_facts, practitioner_landing
from registry.register.subject_access import SUBJECT_ACCESS
from registry.register.tables import REGISTER_TABLES

DOMAIN = Domain(
    name="register",
    api=[PublicRegisterController],
    pages=[
        PublicRegisterPages,
        OpenDataController,
        ReferenceDataPages,
        ApplicationPages,
        YourApplicationPages,
        RegistrarApplicationPages,
        YourRegistrationPages,
    ],
    access={
        # the public register
        "register_search": PUBLIC,
        "register_entry": PUBLIC,
        "api_register_search": PUBLIC,
        "api_register_entry": PUBLIC,
        "register_download": PUBLIC,
        "register_download_csv": PUBLIC,
        "register_download_json": PUBLIC,
        # applying to join the register, and following the application
        "apply_start": PRACTITIONER,
        "apply_begin": PRACTITIONER,
        "apply_restoration": PRACTITIONER,
        "apply_restoration_begin": PRACTITIONER,
        "apply_check": PRACTITIONER,
        "apply_submit": PRACTITIONER,
        "apply_submitted": PRACTITIONER,
        "apply_step": PRACTITIONER,
        "apply_step_submit": PRACTITIONER,
        "your_application": PRACTITIONER,
        "your_application_respond": PRACTITIONER,
        # a practitioner's own registration: renewing and leaving
        "your_registration": PRACTITIONER,
        "renew_registration": PRACTITIONER,
        "renew_registration_submit": PRACTITIONER,
        "renewal_done": PRACTITIONER,
        "leave_register": PRACTITIONER,
        "leave_register_submit": PRACTITIONER,
        # the registrar's decisions on applications
        "registrar_applications": REGISTRAR,
        "registrar_application": REGISTRAR,
        "registrar_application_approve": REGISTRAR,
        "registrar_application_reject": REGISTRAR,
        "registrar_application_request_information": REGISTRAR,
        "registrar_application_evidence": REGISTRAR,
        # reference data
        "admin_reference": ADMIN,
        "admin_reference_kind": ADMIN,
        "admin_reference_add": ADMIN,
        "admin_reference_item": ADMIN,
        "admin_reference_update": ADMIN,
    },
    navigation=[
        NavItem("/register", "Search the register", anyone, position=10),
        NavItem(
            "/your-registration",
            "Your registration",
            not_knowing(HAS_APPLICATION, role="practitioner"),
            position=30,
        ),
        NavItem(
            "/your-application",
            "Your application",
            knowing(HAS_APPLICATION, role="practitioner"),
            position=30,
        ),
        NavItem("/registrar/applications", "Applications", holding("registrar"), position=40),
        NavItem("/admin/reference", "Reference data", holding("admin"), position=52),
    ],
    landing_pages=[practitioner_landing],
    visitor_facts=[practitioner_facts],
    jobs=JOBS,
    demo_seeders=[seed_demo_register, seed_demo_applications],
    commands=[import_register],
    tables=REGISTER_TABLES,
    email_templates=Path(__file__).resolve().parent / "templates" / "email",
    subject_access=[SUBJECT_ACCESS],
    reference_lists=list(REFERENCE_LISTS.values()),
)
