"""Certificates anyone can verify: issued in step with the register, signed as W3C Verifiable
Credentials, with status lists that follow the register in the same transaction."""

from __future__ import annotations

from registry.accounts.access import PUBLIC
from registry.certificates import keys, service
from registry.certificates.api import PublishedDocuments, VerifyController
from registry.certificates.cli import keys_command, verify
from registry.certificates.demo import seed_demo_certificates
from registry.certificates.tables import CERTIFICATE_TABLES
from registry.core.domain import Domain

DOMAIN = Domain(
    name="certificates",
    api=[VerifyController],
    pages=[PublishedDocuments],
    access={
        "api_verify": PUBLIC,
        "status_list": PUBLIC,
        "did_document": PUBLIC,
    },
    commands=[keys_command, verify],
    tables=CERTIFICATE_TABLES,
    change_subscribers=[service.entry_changed],
    demo_seeders=[seed_demo_certificates],
    configure=[keys.configure],
)
