"""What the outbox holds about a person, for a subject access export: the emails sent (or
waiting) to any of their addresses, with what each said.

Links in an email carry single-use tokens (a password reset, a confirmation); they are withheld,
since an export must not be a way into the account. So are the idempotency key (which holds a
link's hash), the claim token and any signing key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from registry.core.subject_access import EMAIL, PersonKeys, SubjectAccess, SubjectRecords
from registry.notifications.tables import MessageKind, OutboxMessage

WITHHELD = "[withheld]"
TOKEN_IN_LINK = re.compile(r"([?&]token=)[^&#\s\"]+")
COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.recipient,
    OutboxMessage.template,
    OutboxMessage.subject,
    OutboxMessage.status,
    OutboxMessage.attempts,
    OutboxMessage.created_at,
    OutboxMessage.sent_at,
    OutboxMessage.body,
)


async def export(person: PersonKeys, data_dir: Path) -> SubjectRecords:
    emails = sorted(person.of(EMAIL))
    if not emails:
        return SubjectRecords({"emails": []})
    rows = (
        await OutboxMessage.select(*COLUMNS)
        .where(OutboxMessage.kind == MessageKind.email.value)
        .where(OutboxMessage.recipient.is_in(emails))
        .order_by(OutboxMessage.id)
    )
    return SubjectRecords(
        {"emails": [{**row, "body": _without_links(row["body"])} for row in rows]}
    )


def _without_links(body: str) -> Any:
    return json.loads(TOKEN_IN_LINK.sub(rf"\g<1>{WITHHELD}", body))


SUBJECT_ACCESS = SubjectAccess(part="notifications", export=export)
