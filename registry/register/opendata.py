"""Open data: the whole public register as a CSV file and a JSON file, and the page about them.

Both files are written while they are sent. They are made from the public document each entry
keeps (``schemas.PublicEntry``, the same document the API serves), read in pages of
:data:`PAGE_SIZE` entries by entry id, so memory stays flat however large the register grows and
nothing private is ever read. An entry changed while a file is being sent appears as it was when
its page was read.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, get
from litestar.response import Stream, Template

from registry.core import clock
from registry.register.api import CACHE_CONTROL
from registry.register.schemas import STATUS_LABELS, PublicEntry
from registry.register.tables import RegisterEntry

PAGE_SIZE = 1000
FILE_STEM = "probation-register"
CSV_MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
LIST_SEPARATOR = "; "
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A spreadsheet set to split on another separator (a semicolon, a tab, a bar) starts a new cell
# after each, so a formula may also start there: "Smith;=HYPERLINK(...)" is two cells in Excel
# set to semicolons. An apostrophe after the separator (and any spaces) makes it text.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;|\t\r\n] *)(?=[=+\-@])")


@dataclass(frozen=True)
class Field:
    name: str
    description: str
    example: str


@dataclass(frozen=True)
class Column(Field):
    value: Callable[[PublicEntry], str]


def _listed(items: list[str]) -> str:
    return LIST_SEPARATOR.join(items)


def _restriction(entry: PublicEntry) -> str:
    return _listed(
        [
            f"{r.kind.replace('_', ' ').capitalize()}: {r.summary}"
            + (f" (until {r.ends_on.isoformat()})" if r.ends_on else "")
            for r in entry.restrictions
        ]
    )


STATUS_CODES = ", ".join(f"{status.value} ({label})" for status, label in STATUS_LABELS.items())

CSV_COLUMNS: tuple[Column, ...] = (
    Column(
        "registration_number",
        "PR, six digits and a check character",
        "PR1000011",
        lambda e: e.registration_number,
    ),
    Column("given_names", "Given names", "Jane Anne", lambda e: e.given_names),
    Column("family_name", "Family name", "Smith", lambda e: e.family_name),
    Column(
        "roles",
        "Designated roles, separated by semicolons",
        "Probation Officer; Senior Probation Officer",
        lambda e: _listed([role.name for role in e.roles]),
    ),
    Column("region", "Probation region", "London", lambda e: e.region.name),
    Column("status", f"One of: {STATUS_CODES}", "registered", lambda e: e.status.value),
    Column(
        "registered_since",
        "Date first registered, as YYYY-MM-DD",
        "2019-07-01",
        lambda e: e.registered_since.isoformat(),
    ),
    Column(
        "registered_until",
        "Date the registration runs to unless renewed, as YYYY-MM-DD",
        "2027-11-30",
        lambda e: e.registered_until.isoformat(),
    ),
    Column(
        "qualifications",
        "Qualifications recorded on the entry, separated by semicolons; empty if none",
        "Professional Qualification in Probation (PQiP)",
        lambda e: _listed([q.name for q in e.qualifications]),
    ),
    Column(
        "restrictions",
        "Conditions, suspensions and warnings in force, separated by semicolons, each as "
        "kind: summary (until date); empty if none. The published decision is linked from the "
        "entry's page and the JSON file",
        "Conditions: Must work under supervision (until 2027-05-31)",
        _restriction,
    ),
    Column(
        "removed_on",
        "For an entry off the register: the day it left, as YYYY-MM-DD; empty otherwise",
        "2026-12-22",
        lambda e: e.removed_on.isoformat() if e.removed_on else "",
    ),
    Column(
        "removal_reason",
        "For an entry off the register: how it left (lapsed, asked to leave, or removed by a "
        "fitness to practise decision); empty otherwise",
        "The registration lapsed because it was not renewed",
        lambda e: e.removal_reason or "",
    ),
)

JSON_FIELDS: tuple[Field, ...] = (
    Field("registration_number", "PR, six digits and a check character", '"PR1000011"'),
    Field("name", "Given names then family name", '"Jane Anne Smith"'),
    Field("given_names", "Given names", '"Jane Anne"'),
    Field("family_name", "Family name", '"Smith"'),
    Field(
        "roles",
        "Designated roles, each with its code and name",
        '[{"code": "probation_officer", "name": "Probation Officer"}]',
    ),
    Field("region", "Probation region: code and name", '{"code": "london", "name": "London"}'),
    Field("status", f"One of: {STATUS_CODES}", '"registered"'),
    Field("status_label", "The status as the register's pages show it", '"Registered"'),
    Field("registered_since", "Date first registered, as YYYY-MM-DD", '"2019-07-01"'),
    Field(
        "registered_until",
        "Date the registration runs to unless renewed, as YYYY-MM-DD",
        '"2027-11-30"',
    ),
    Field(
        "qualifications",
        "Qualifications recorded on the entry, each with its name and the date awarded "
        "(null if not recorded)",
        '[{"name": "Professional Qualification in Probation (PQiP)", "awarded_on": "2019-06-30"}]',
    ),
    Field(
        "restrictions",
        "Conditions, suspensions and warnings in force: kind (interim_conditions, "
        "interim_suspension, conditions, suspension or warning), summary, starts_on, ends_on "
        "(null if open-ended) and decision_url, the published decision",
        "[]",
    ),
    Field(
        "removed_on",
        "For an entry off the register: the day it left, as YYYY-MM-DD; null otherwise",
        '"2026-12-22"',
    ),
    Field(
        "removal_reason",
        "For an entry off the register: how it left; null otherwise",
        '"The registration lapsed because it was not renewed"',
    ),
    Field(
        "updated_at",
        "When the entry last changed, in UTC",
        '"2026-11-23T09:30:00Z"',
    ),
)


def csv_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text, whatever separator it splits on: an
    apostrophe before anything that could start a formula. The JSON file keeps the exact text."""
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def public_documents(page_size: int | None = None) -> AsyncIterator[list[str]]:
    """Every entry's public document (JSON text), a page at a time, in entry id order."""
    page_size = page_size or PAGE_SIZE
    after = 0
    while True:
        rows = await RegisterEntry.raw(
            "SELECT id, public_document FROM register_entry"
            " WHERE id > {} AND public_document <> '' ORDER BY id LIMIT {}",
            after,
            page_size,
        )
        if rows:
            yield [row["public_document"] for row in rows]
        if len(rows) < page_size:
            return
        after = rows[-1]["id"]


async def csv_file(page_size: int | None = None) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerow([column.name for column in CSV_COLUMNS])
    yield buffer.getvalue().encode()
    async for documents in public_documents(page_size):
        buffer.seek(0)
        buffer.truncate()
        for document in documents:
            entry = PublicEntry.model_validate_json(document)
            writer.writerow([csv_cell(column.value(entry)) for column in CSV_COLUMNS])
        yield buffer.getvalue().encode()


async def json_file(generated_at: datetime, page_size: int | None = None) -> AsyncIterator[bytes]:
    head = {
        "generated_at": _iso(generated_at),
        "fields": [{"name": f.name, "description": f.description} for f in JSON_FIELDS],
    }
    # The head, then the documents as stored (they are JSON already), then the close.
    yield (json.dumps(head)[:-1] + ', "entries": [').encode()
    first = True
    async for documents in public_documents(page_size):
        yield (("\n" if first else ",\n") + ",\n".join(documents)).encode()
        first = False
    yield b"\n]}\n"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _download_headers(generated_at: datetime, extension: str) -> dict[str, str]:
    filename = f"{FILE_STEM}-{generated_at.astimezone(UTC).date().isoformat()}.{extension}"
    return {
        "content-disposition": f'attachment; filename="{filename}"',
        "x-generated-at": _iso(generated_at),
        "cache-control": CACHE_CONTROL,
    }


class OpenDataController(Controller):
    path = "/register"
    tags = ["Open data"]

    @get("/download", name="register_download", include_in_schema=False)
    async def page(self) -> Template:
        counted = await RegisterEntry.raw(
            "SELECT COUNT(*) AS n FROM register_entry WHERE public_document <> ''"
        )
        context: dict[str, Any] = {
            "entries": int(counted[0]["n"]),
            "csv_columns": CSV_COLUMNS,
            "json_fields": JSON_FIELDS,
            "page_size": PAGE_SIZE,
        }
        return Template("register/download.html", context=context)

    @get(
        "/download.csv",
        name="register_download_csv",
        summary="The whole public register as CSV",
        description=(
            "One row per entry, with a header row: "
            + ", ".join(column.name for column in CSV_COLUMNS)
            + ". Streamed; the moment it was made is in the X-Generated-At header and the date "
            "in the file name."
        ),
        media_type=CSV_MEDIA_TYPE,
    )
    async def download_csv(self) -> Stream:
        generated_at = clock.now()
        return Stream(
            csv_file(),
            media_type=CSV_MEDIA_TYPE,
            headers=_download_headers(generated_at, "csv"),
        )

    @get(
        "/download.json",
        name="register_download_json",
        summary="The whole public register as JSON",
        description=(
            'One object: {"generated_at", "fields", "entries"}, each entry the same public entry '
            "as GET /api/v1/register/{registration_number}. Streamed."
        ),
        media_type=JSON_MEDIA_TYPE,
    )
    async def download_json(self) -> Stream:
        generated_at = clock.now()
        return Stream(
            json_file(generated_at),
            media_type=JSON_MEDIA_TYPE,
            headers=_download_headers(generated_at, "json"),
        )
