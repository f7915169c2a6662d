"""What crosses the edge for the audit trail: the filter form and the API's entries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from registry.audit.service import RecordedEntry
from registry.web.dates import PARTS, read_date, typed
from registry.web.forms import Form
from registry.web.inputs import Day, Text, page_field


class AuditFilterForm(Form):
    """The filters on the audit trail page; dates are whole days in UTC, both ends included."""

    action: Text = Field(default="", max_length=80)
    actor: Text = Field(default="", max_length=254)
    target_type: Text = Field(default="", max_length=60)
    target_id: Text = Field(default="", max_length=80)
    # Each date is typed in three boxes (the GOV.UK date input); from_date and to_date as one
    # ISO value (YYYY-MM-DD) still work, for links and bookmarks.
    from_date_day: Text = Field(default="", max_length=4, alias="from_date-day")
    from_date_month: Text = Field(default="", max_length=4, alias="from_date-month")
    from_date_year: Text = Field(default="", max_length=6, alias="from_date-year")
    to_date_day: Text = Field(default="", max_length=4, alias="to_date-day")
    to_date_month: Text = Field(default="", max_length=4, alias="to_date-month")
    to_date_year: Text = Field(default="", max_length=6, alias="to_date-year")
    from_date: Day = Field(default=None, validate_default=True, title="From date")
    to_date: Day = Field(default=None, validate_default=True, title="To date")
    page: int = page_field()

    @field_validator("from_date", "to_date", mode="before")
    @classmethod
    def _typed_in_three_boxes(cls, value: Any, info: ValidationInfo) -> Any:
        name = str(info.field_name)
        boxes = {f"{name}-{part}": info.data.get(f"{name}_{part}", "") for part in PARTS}
        if not typed(boxes, name):
            return value
        label = "From date" if name == "from_date" else "To date"
        day = read_date(boxes, name, label, missing="")
        if isinstance(day, str):
            raise ValueError(day)
        return day

    not_on_page: ClassVar[frozenset[str]] = frozenset({"page"})
    date_fields: ClassVar[frozenset[str]] = frozenset({"from_date", "to_date"})

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
