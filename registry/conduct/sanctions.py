"""Sanctions: the terms a decision may set, checked against the limits before anything is
stored, and when a sanction takes effect and ends.

A sanction is made only by a decision of the workflow (:mod:`registry.conduct.workflow`), at a
stage that may make it, by a role allowed to: case examiners give advice or a warning or propose
an accepted outcome; a hearing panel (adjudicators) imposes anything but advice. It takes effect
when the appeal period ends, or at once when the decision says so; it ends at the end of its
last day; a review before then may extend, vary or revoke it, within the same limits.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from registry.conduct import limits
from registry.conduct.tables import SANCTION_LABELS, SanctionKind
from registry.errors import InvalidInput

FIELD = "sanction"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Terms:
    """What a decision imposes: the kind, for how many months (none for advice and removal),
    the conditions' text (conditions only), the published summary, and whether it takes effect
    at once rather than after the appeal period."""

    kind: SanctionKind
    months: int | None = None
    conditions: str = ""
    summary: str = ""
    immediate: bool = False

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "kind": self.kind.value})

    @classmethod
    def from_json(cls, text: str) -> Terms:
        values: dict[str, Any] = json.loads(text)
        return cls(**{**values, "kind": SanctionKind(values["kind"])})

    @property
    def label(self) -> str:
        label = SANCTION_LABELS[self.kind]
        if self.months is None:
            return label
        if self.months % 12 == 0:
            years = self.months // 12
            return f"{label} for {years} year{'s' if years != 1 else ''}"
        return f"{label} for {self.months} month{'s' if self.months != 1 else ''}"


def parse_kind(value: str, *, field: str = "kind") -> SanctionKind:
    try:
        return SanctionKind(value)
    except ValueError:
        raise InvalidInput(
            f"'{value[:40]}' is not a sanction. Choose one of: "
            f"{', '.join(kind.value for kind in SanctionKind)}",
            field=field,
        ) from None


def check_terms(terms: Terms, allowed: frozenset[SanctionKind]) -> Terms:
    """The terms, cleaned, or :class:`InvalidInput` naming the limit they break."""
    if terms.kind not in allowed:
        names = ", ".join(SANCTION_LABELS[kind].lower() for kind in SanctionKind if kind in allowed)
        raise InvalidInput(
            f"This decision cannot impose {SANCTION_LABELS[terms.kind].lower()}: it may impose "
            f"{names}",
            field="kind",
        )
    months = terms.months
    conditions = terms.conditions.strip()
    summary = terms.summary.strip()
    if len(conditions) > limits.MAX_TEXT or len(summary) > limits.MAX_TEXT:
        raise InvalidInput("Write 10,000 characters or fewer", field="summary")
    if terms.kind in (SanctionKind.advice, SanctionKind.removal):
        if months is not None:
            raise InvalidInput(
                f"{SANCTION_LABELS[terms.kind]} has no length: leave the months out",
                field="months",
            )
    elif terms.kind is SanctionKind.warning:
        allowed_months = sorted(12 * years for years in limits.WARNING_YEARS)
        if months not in allowed_months:
            years = " or ".join(str(y) for y in sorted(limits.WARNING_YEARS))
            raise InvalidInput(
                f"A warning lasts {years} years ({', '.join(map(str, allowed_months))} months)",
                field="months",
            )
    else:
        most = 12 * (
            limits.CONDITIONS_MAX_YEARS
            if terms.kind is SanctionKind.conditions
            else limits.SUSPENSION_MAX_YEARS
        )
        if months is None or not 1 <= months <= most:
            raise InvalidInput(
                f"{SANCTION_LABELS[terms.kind]} lasts from 1 to {most} months "
                f"({most // 12} year{'s' if most > 12 else ''} at most)",
                field="months",
            )
    if terms.kind is SanctionKind.conditions and not conditions:
        raise InvalidInput("Enter the conditions the practitioner must meet", field="conditions")
    if terms.kind is not SanctionKind.conditions and conditions:
        raise InvalidInput("Only conditions of practice carry conditions", field="conditions")
    if not summary:
        raise InvalidInput("Enter a summary of the decision, to publish", field="summary")
    return Terms(terms.kind, months, conditions, summary, terms.immediate)


def starts_on(decided_on: date, immediate: bool) -> date:
    return decided_on if immediate else decided_on + timedelta(days=limits.APPEAL_DAYS)


def ends_on(starts: date, months: int | None) -> date | None:
    """The last day in force: the day before the same date ``months`` later."""
    return None if months is None else add_months(starts, months) - timedelta(days=1)


def longest_end(kind: SanctionKind, starts: date) -> date | None:
    """The latest last day a sanction of ``kind`` starting on ``starts`` may have."""
    if kind is SanctionKind.warning:
        return ends_on(starts, 12 * max(limits.WARNING_YEARS))
    if kind is SanctionKind.conditions:
        return ends_on(starts, 12 * limits.CONDITIONS_MAX_YEARS)
    if kind is SanctionKind.suspension:
        return ends_on(starts, 12 * limits.SUSPENSION_MAX_YEARS)
    return None


# Shown on the public entry while in force, and ended on their last day.
ENDING = frozenset({SanctionKind.warning, SanctionKind.conditions, SanctionKind.suspension})
# Orders a decision makes that take effect (after the appeal period, or at once).
ORDERS = ENDING | {SanctionKind.removal}
