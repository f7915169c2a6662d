"""A person with something in every domain, made through the services: for the backup and
subject access tests, which must find each kind of record."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from registry.accounts import password_links, users
from registry.accounts.roles import Role
from registry.accounts.tables import (
    ApiToken,
    BrowserSession,
    EmailConfirmation,
    PasswordResetToken,
    RecoveryCode,
    User,
)
from registry.register import service
from registry.register.applications.records import ApplicationRecord
from tests.accounts.helpers import PASSWORD, SignedIn, sign_in
from tests.register.applying import PDF, submitted_application
from tests.register.helpers import put_on_register


@dataclass
class Person:
    email: str
    name: str
    signed_in: SignedIn
    reset_token: str
    application: ApplicationRecord
    entry: service.Entry
    evidence: bytes

    @property
    def evidence_sha256(self) -> str:
        return hashlib.sha256(self.evidence).hexdigest()


async def seed_person(data_dir: Path, given: str, family: str) -> Person:
    """An account (a registrar too, so it has a second factor and recovery codes) signed in with
    an API token, a pending reset link, an application with its own evidence file, and an entry
    on the register: each audited, several emailed."""
    email = f"{given}.{family}@example.org".lower()
    account = await users.create_user(
        email, f"{given} {family}", [Role.practitioner, Role.registrar], PASSWORD
    )
    signed_in = await sign_in(account)
    reset_token = await password_links.request_password_reset(email)
    assert reset_token is not None
    evidence = PDF + f"% evidence of {given} {family}\n".encode()
    application = await submitted_application(
        data_dir, account, given=given, family=family, email=email, evidence=evidence
    )
    entry = await put_on_register(given, family, account_id=account.id)
    return Person(email, f"{given} {family}", signed_in, reset_token, application, entry, evidence)


async def stored_secrets() -> set[str]:
    """Every hash and sealed secret the database holds, none of which an export may show."""
    found: set[str] = set()
    for column in (
        User.password_hash,
        User.totp_secret,
        BrowserSession.token_hash,
        ApiToken.token_hash,
        RecoveryCode.code_hash,
        PasswordResetToken.token_hash,
        EmailConfirmation.token_hash,
    ):
        table = column._meta.table
        found.update(str(row[column._meta.name]) for row in await table.select(column))
    return {secret for secret in found if secret}
