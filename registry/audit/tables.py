"""The audit trail: append-only, each entry chained to the one before by its hash."""

from __future__ import annotations

from piccolo.columns import Char, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entry"):
    id: Serial  # made by Piccolo; declared so the type checker knows it
    occurred_at = Timestamptz(index=True)
    actor_id = Integer(null=True, default=None, index=True)  # no foreign key: entries outlive users
    actor_label = Varchar(length=254, default="system")
    action = Varchar(length=80, index=True)  # e.g. register.status_changed, conduct.case_viewed
    target_type = Varchar(length=60, index=True)
    target_id = Varchar(length=80, index=True)
    changes = Text(default="{}")  # canonical JSON: {"before": {...}, "after": {...}}
    client_address = Varchar(length=64, default="")
    request_id = Varchar(length=64, default="")
    prev_hash = Char(length=64)
    hash = Char(length=64, unique=True)


AUDIT_TABLES: list[type[Table]] = [AuditEntry]
