"""Certificates and the status lists their bits live in.

A certificate's status bits are not stored twice: its revocation bit is ``revoked_at IS NOT
NULL`` and its suspension bit is ``suspended``, at the indexes it was given in each list. The
served list is built from these columns, so a change and its bit are one write in one
transaction. Each list row counts the changes to its bits (``version``, the served ETag) and
hands out indexes.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from registry.register.tables import RegisterEntry


class CertificateKind(StrEnum):
    registration = "registration"
    cpd_statement = "cpd_statement"


class StatusPurpose(StrEnum):
    revocation = "revocation"
    suspension = "suspension"


class StatusList(Table, tablename="certificate_status_list"):
    """One Bitstring Status List. Indexes are handed out in the order of a fixed permutation of
    0 … size-1 (``index = (multiplier * n + shift) mod size``, multiplier odd, size a power of
    two), so no two certificates share one and neighbours in time are not neighbours in the
    list."""

    id: Serial
    name = Varchar(length=40, unique=True)  # "revocation", "revocation-2", …: its URL
    purpose = Varchar(length=16, index=True)
    size = Integer()
    allocated = Integer(default=0)
    multiplier = Integer()
    shift = Integer()
    version = Integer(default=1)  # goes up with every bit changed: the served ETag
    updated_at = Timestamptz()


class Certificate(Table, tablename="certificate"):
    id: Serial
    serial = Varchar(length=27, unique=True)
    entry = ForeignKey(RegisterEntry, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20)
    issued_at = Timestamptz()
    valid_until = Timestamptz()
    certified = Text()  # JSON: what the certificate says (name, number, roles, dates, …)
    credential = Text()  # the signed Verifiable Credential, as issued
    revocation_list = ForeignKey(StatusList, on_delete=OnDelete.restrict)
    revocation_index = Integer()
    suspension_list = ForeignKey(StatusList, on_delete=OnDelete.restrict)
    suspension_index = Integer()
    suspended = Boolean(default=False)
    suspended_at = Timestamptz(null=True, default=None)
    superseded_by = Integer(null=True, default=None)  # the certificate that replaced this one
    revoked_at = Timestamptz(null=True, default=None, index=True)
    revocation_reason = Text(default="")
    issued_by = Varchar(length=200, default="")
    revoked_by = Varchar(length=200, default="")


CERTIFICATE_TABLES: list[type[Table]] = [StatusList, Certificate]
