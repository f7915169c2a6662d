"""The audit trail: every change and sensitive read, hash-chained."""

from __future__ import annotations

from registry.accounts.access import STAFF
from registry.audit.api import AuditController
from registry.audit.cli import audit
from registry.audit.pages import AuditPages
from registry.audit.subject_access import SUBJECT_ACCESS
from registry.audit.tables import AUDIT_TABLES
from registry.core.domain import Domain, NavItem, staff

DOMAIN = Domain(
    name="audit",
    api=[AuditController],
    pages=[AuditPages],
    access={
        # the audit trail
        "audit_trail": STAFF,
        "api_audit_trail": STAFF,
    },
    navigation=[NavItem("/audit", "Audit trail", staff, position=60)],
    commands=[audit],
    tables=AUDIT_TABLES,
    subject_access=[SUBJECT_ACCESS],
)
