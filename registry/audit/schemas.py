"""What crosses the edge for the audit trail: the filter form and the API's entries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from registry.audit.service import RecordedEntry
from registry.web.forms import Form


class AuditFilterForm(Form):
    """The filters on the audit trail page; dates are whole days in UTC, both ends included."""

    action: str = Field(default="", max_length=80)
    actor: str = Field(default="", max_length=254)
    target_type: str = Field(default="", max_length=60)
    target_id: str = Field(default="", max_length=80)
    from_date: date | None = None
    to_date: date | None = None
    page: int = Field(default=1, ge=1)

    not_on_page: ClassVar[frozenset[str]] = frozenset({"page"})

    @field_validator("action", "actor", "target_type", "target_id", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("from_date", "to_date", mode="before")
    @classmethod
    def _blank_date(cls, value: Any) -> Any:
        return None if value == "" else value

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
