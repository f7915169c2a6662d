"""CPD: standards and practice areas, rule packs, the activity log and progress."""

from __future__ import annotations

from pathlib import Path

from registry.accounts.access import ADMIN, PRACTITIONER, REGISTRAR, Rule
from registry.accounts.roles import Role
from registry.core.domain import Domain, NavItem, holding, knowing
from registry.cpd.api import MyCpdController, RulePackController
from registry.cpd.audit_api import AuditController, MyAuditController
from registry.cpd.audit_pages import (
    AuditCasePages,
    AuditStatisticsPages,
    ModerationPages,
    MyAuditPages,
    RegistrarAuditPages,
)
from registry.cpd.cli import cpd
from registry.cpd.demo import seed_demo_cpd
from registry.cpd.exemption_api import ExemptionsController, MyExemptionsController
from registry.cpd.exemption_pages import ExemptionRequestPages, RegistrarExemptionPages
from registry.cpd.pages import CpdPages, RulePackPages
from registry.cpd.reference import REFERENCE_LISTS
from registry.cpd.reminders import JOBS
from registry.cpd.renewal import renewal_check
from registry.cpd.subject_access import SUBJECT_ACCESS
from registry.cpd.tables import CPD_TABLES
from registry.register.signposts import ON_REGISTER

# An evidence file: its owner, and CPD staff (the service checks which: anyone else's is 404).
OWNER_OR_CPD_STAFF = Rule(roles=frozenset({Role.practitioner, Role.cpd_assessor}))
ASSESSOR = Rule(roles=frozenset({Role.cpd_assessor}))
AUDIT_STAFF = Rule(roles=frozenset({Role.cpd_assessor, Role.registrar}))

DOMAIN = Domain(
    name="cpd",
    api=[
        MyCpdController,
        RulePackController,
        MyExemptionsController,
        ExemptionsController,
        MyAuditController,
        AuditController,
    ],
    pages=[
        CpdPages,
        RulePackPages,
        ExemptionRequestPages,
        RegistrarExemptionPages,
        AuditStatisticsPages,
        MyAuditPages,
        AuditCasePages,
        ModerationPages,
        RegistrarAuditPages,
    ],
    access={
        # a practitioner's own CPD record, on pages
        "cpd_dashboard": PRACTITIONER,
        "cpd_activity_new": PRACTITIONER,
        "cpd_activity_create": PRACTITIONER,
        "cpd_activity": PRACTITIONER,
        "cpd_activity_edit": PRACTITIONER,
        "cpd_activity_update": PRACTITIONER,
        "cpd_activity_delete_confirm": PRACTITIONER,
        "cpd_activity_delete": PRACTITIONER,
        "cpd_evidence_upload": PRACTITIONER,
        "cpd_evidence_remove": PRACTITIONER,
        "cpd_evidence_download": OWNER_OR_CPD_STAFF,
        "cpd_export_csv": PRACTITIONER,
        "cpd_export_json": PRACTITIONER,
        # and through the API, with their token
        "api_cpd_activities": PRACTITIONER,
        "api_cpd_activity_create": PRACTITIONER,
        "api_cpd_activity": PRACTITIONER,
        "api_cpd_activity_update": PRACTITIONER,
        "api_cpd_activity_delete": PRACTITIONER,
        "api_cpd_evidence_add": PRACTITIONER,
        "api_cpd_evidence": PRACTITIONER,
        "api_cpd_evidence_remove": PRACTITIONER,
        "api_cpd_progress": PRACTITIONER,
        "api_cpd_export_json": PRACTITIONER,
        "api_cpd_export_csv": PRACTITIONER,
        "api_cpd_statement_issue": PRACTITIONER,
        "cpd_statement_issue": PRACTITIONER,
        # rule packs
        "cpd_rule_packs": ADMIN,
        "cpd_rule_pack_create": ADMIN,
        "api_cpd_rule_packs": ADMIN,
        "api_cpd_rule_pack_create": ADMIN,
        # exemptions: the practitioner asks, a registrar decides
        "cpd_exemptions": PRACTITIONER,
        "cpd_exemption_new": PRACTITIONER,
        "cpd_exemption_create": PRACTITIONER,
        "api_cpd_my_exemptions": PRACTITIONER,
        "api_cpd_exemption_request": PRACTITIONER,
        "registrar_cpd_exemptions": REGISTRAR,
        "registrar_cpd_exemption": REGISTRAR,
        "registrar_cpd_exemption_grant": REGISTRAR,
        "registrar_cpd_exemption_refuse": REGISTRAR,
        "api_cpd_exemptions": REGISTRAR,
        "api_cpd_exemption": REGISTRAR,
        "api_cpd_exemption_grant": REGISTRAR,
        "api_cpd_exemption_refuse": REGISTRAR,
        # the audit: the chosen practitioner's profile, assessors, registrars, figures
        "api_cpd_my_audit": PRACTITIONER,
        "api_cpd_audit_submit": PRACTITIONER,
        "api_cpd_audit_inform": PRACTITIONER,
        "api_cpd_audit_cases": AUDIT_STAFF,
        "api_cpd_audit_case": AUDIT_STAFF,
        "api_cpd_audit_assess": ASSESSOR,
        "api_cpd_audit_moderate": ASSESSOR,
        "api_cpd_audit_decide": REGISTRAR,
        "api_cpd_audit_statistics": AUDIT_STAFF,
        "api_cpd_audit_statistics_csv": AUDIT_STAFF,
        "cpd_audit_statistics": AUDIT_STAFF,
        "cpd_audit_statistics_csv": AUDIT_STAFF,
        # and on pages: the practitioner's profile, the queues, a review and each decision
        "cpd_audit": PRACTITIONER,
        "cpd_audit_case": PRACTITIONER,
        "cpd_audit_profile": PRACTITIONER,
        "cpd_audit_profile_check": PRACTITIONER,
        "cpd_audit_submit": PRACTITIONER,
        "cpd_audit_inform": PRACTITIONER,
        "cpd_audit_cases": AUDIT_STAFF,
        "cpd_audit_review": AUDIT_STAFF,
        "cpd_audit_assess": ASSESSOR,
        "cpd_audit_moderate": ASSESSOR,
        "cpd_audit_decide": REGISTRAR,
        "cpd_audit_moderation": ASSESSOR,
        "registrar_cpd_audit": REGISTRAR,
    },
    navigation=[
        NavItem("/cpd", "Your CPD", knowing(ON_REGISTER, role="practitioner"), position=32),
        NavItem("/registrar/cpd/exemptions", "CPD exemptions", holding("registrar"), position=42),
        NavItem("/registrar/cpd/audit", "CPD audit cases", holding("registrar"), position=43),
        NavItem("/cpd/audit/cases", "CPD audit", holding("cpd_assessor"), position=44),
        NavItem("/cpd/audit/moderation", "CPD moderation", holding("cpd_assessor"), position=45),
        NavItem("/admin/cpd/rule-packs", "CPD rule packs", holding("admin"), position=53),
    ],
    jobs=JOBS,
    commands=[cpd],
    demo_seeders=[seed_demo_cpd],
    tables=CPD_TABLES,
    email_templates=Path(__file__).resolve().parent / "templates" / "email",
    reference_lists=REFERENCE_LISTS,
    subject_access=[SUBJECT_ACCESS],
    renewal_checks=[renewal_check],
)
