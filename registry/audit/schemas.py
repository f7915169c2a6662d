"""What crosses the edge for the audit trail: the filter form and the API's entries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from registry.audit.service import RecordedEntry
from registry.web.forms import Form
from registry.web.inputs import Day, Text, page_field


class AuditFilterForm(Form):
    """The filters on the audit trail page; dates are whole days in UTC, both ends included."""

    action: Text = Field(default="", max_length=80)
    actor: Text = Field(default="", max_length=254)
    target_type: Text = Field(default="", max_length=60)
    target_id: Text = Field(default="", max_length=80)
    from_date: Day = None
    to_date: Day = None
    page: int = page_field()

    not_on_page: ClassVar[frozenset[str]] = frozenset({"page"})

    @field_validator("to_date")
    @classmethod
    def _in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("from_date")
        if value is not None and start is not None and value < start:
            raise ValueError("The 'to' date must be the same as or after the 'from' date")
        return value

    def occurred_from(self) -> datetime | None:
        return datetime.combine(self.from_date, time(), UTC) if self.from_date else None

    def occurred_before(self) -> datetime | None:
        if self.to_date is None:
            return None
        return datetime.combine(self.to_date + timedelta(days=1), time(), UTC)


class AuditEntryOut(BaseModel):
    id: int
    occurred_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str
    changes: dict[str, Any] = Field(description='{"before": {...}, "after": {...}}')
    client_address: str
    request_id: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, entry: RecordedEntry) -> AuditEntryOut:
        return cls(**{name: getattr(entry, name) for name in cls.model_fields})


class AuditEntryPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    page: int
    page_size: int
