"""Certificates anyone can verify: issued in step with the register, signed as W3C Verifiable
Credentials, with status lists that follow the register in the same transaction."""

from __future__ import annotations

from registry.accounts.access import PRACTITIONER, PUBLIC, REGISTRAR
from registry.certificates import keys, service
from registry.certificates.api import MyCertificatesController, PublishedDocuments, VerifyController
from registry.certificates.cli import certificates_command, keys_command, verify
from registry.certificates.demo import seed_demo_certificates
from registry.certificates.pages import VerifyPages, YourCertificatesPages
from registry.certificates.staff_pages import RegistrarCertificatePages
from registry.certificates.tables import CERTIFICATE_TABLES
from registry.core.domain import Domain, NavItem, anyone, holding

DOMAIN = Domain(
    name="certificates",
    api=[VerifyController, MyCertificatesController],
    pages=[PublishedDocuments, VerifyPages, YourCertificatesPages, RegistrarCertificatePages],
    access={
        "api_verify": PUBLIC,
        "status_list": PUBLIC,
        "did_document": PUBLIC,
        # anyone checks a certificate: what its QR code opens, a serial typed in, a file
        "verify_start": PUBLIC,
        "verify_submit": PUBLIC,
        "verify_certificate": PUBLIC,
        # a practitioner's own certificates
        "your_certificates": PRACTITIONER,
        "your_certificate_pdf": PRACTITIONER,
        "your_certificate_json": PRACTITIONER,
        "api_my_certificates": PRACTITIONER,
        "api_my_certificate": PRACTITIONER,
        # the registrar: an entry's certificates, reissuing and revoking
        "registrar_certificates": REGISTRAR,
        "registrar_entry_certificates": REGISTRAR,
        "registrar_certificate_action": REGISTRAR,
        "registrar_certificate_action_submit": REGISTRAR,
    },
    navigation=[
        NavItem("/verify", "Check a certificate", anyone, position=12),
        NavItem("/your-certificates", "Your certificates", holding("practitioner"), position=32),
        NavItem("/registrar/certificates", "Certificates", holding("registrar"), position=41),
    ],
    commands=[keys_command, verify, certificates_command],
    tables=CERTIFICATE_TABLES,
    change_subscribers=[service.entry_changed],
    batch_change_subscribers=[service.entries_changed],
    demo_seeders=[seed_demo_certificates],
    configure=[keys.configure],
)
