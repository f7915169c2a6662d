"""Dates typed into a GOV.UK date input: three boxes (``NAME-day``, ``NAME-month``,
``NAME-year``) read as one date, or as what is wrong with them, in the service's words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

PARTS = ("day", "month", "year")


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def typed(values: Mapping[str, Any], name: str) -> bool:
    """Did the person type anything into the date ``name``?"""
    return any(_text(values, f"{name}-{part}") for part in PARTS)


def read_date(values: Mapping[str, Any], name: str, label: str, missing: str) -> date | str:
    """A GOV.UK date input's day, month and year as a date, or what is wrong with them."""
    parts = {part: _text(values, f"{name}-{part}") for part in ("day", "month", "year")}
    if not any(parts.values()):
        return missing
    absent = [part for part, value in parts.items() if not value]
    if absent:
        return f"{label} must include a {' and a '.join(absent)}"
    if not all(value.isdigit() for value in parts.values()):
        return f"{label} must be a real date"
    if len(parts["year"]) != 4:
        return "Year must include 4 numbers"
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        return f"{label} must be a real date"


def date_values(name: str, value: date | None) -> dict[str, str]:
    if value is None:
        return {}
    return {
        f"{name}-day": str(value.day),
        f"{name}-month": str(value.month),
        f"{name}-year": str(value.year),
    }
