"""The entry page writes out the GOV.UK warning text and summary list as the GOV.UK macros render
them, and the status tag as the register's own macro does (the macros' generic handling of every
option was most of the time of a page not yet kept). Here each written-out part is given back to
the macro call it stands for, and the page must be the very same, byte for byte, for every kind
of entry: each status, on and off the register, orders in force or none, one role or several,
qualifications or none, and any text."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, Template
from litestar import Litestar, Request

from registry.register import pages, service
from registry.register.schemas import (
    REMOVAL_REASONS,
    STATUS_LABELS,
    CodeAndName,
    PublicEntry,
    PublicQualification,
    PublicRestriction,
)
from registry.register.service import EntryMove
from registry.register.tables import RegisterStatus
from registry.web.templating import _environment
from tests.register.helpers import put_on_register

# What entry.html said before its parts were written out: the macros, called as they were
# (but for the qualifications' separator, a line break since, where it had been the text "<br>").
MACRO_CALLS = {
    "status_tag": (
        "register/macros.html",
        '    <p class="govuk-body">{{ status_tag(entry) }}</p>\n',
    ),
    "govukWarningText": (
        "govuk_frontend_jinja/components/warning-text/macro.html",
        '      {{ govukWarningText({"text": entry.name ~ " must not practise as a registered '
        'probation practitioner while " ~ ("suspended" if entry.status.value == "suspended" '
        'else "off the register") ~ ".", "iconFallbackText": "Warning"}) }}\n',
    ),
    "govukSummaryList": (
        "govuk_frontend_jinja/components/summary-list/macro.html",
        """    {{ govukSummaryList({"rows": [
      {"key": {"text": "Registration number"}, "value": {"text": entry.registration_number}},
      {"key": {"text": "Status"}, "value": {"text": entry.status_label}},
      {"key": {"text": "Role" if entry.roles | length == 1 else "Roles"}, "value": {"text": entry.roles | map(attribute="name") | join(", ")}},
      {"key": {"text": "Region"}, "value": {"text": entry.region.name}},
      {"key": {"text": "Registered since"}, "value": {"text": entry.registered_since.strftime("%-d %B %Y")}},
      {"key": {"text": "Left the register on"}, "value": {"text": entry.removed_on.strftime("%-d %B %Y")}} if entry.removed_on else {"key": {"text": "Registered until"}, "value": {"text": entry.registered_until.strftime("%-d %B %Y")}},
      {"key": {"text": "How they left"}, "value": {"text": entry.removal_reason}} if entry.removal_reason else none,
      {"key": {"text": "Qualifications"}, "value": {"html": (entry.qualifications | map(attribute="name") | map("e") | join("<br>" | safe)) if entry.qualifications else "None recorded"}}
    ] | reject("none") | list}) }}
""",  # noqa: E501 (the call as the template had it)
    ),
}


def _with_macros(environment: Environment) -> Template:
    """entry.html with each written-out part given back to its macro call."""
    assert environment.loader is not None
    source = environment.loader.get_source(environment, pages.ENTRY_PAGE)[0]
    for name, (macro, call) in MACRO_CALLS.items():
        part = re.compile(
            rf"^[ \t]*\{{# {name}: start #\}}\n.*?^[ \t]*\{{# {name}: end #\}}\n", re.M | re.S
        )
        source, found = part.subn(call.replace("\\", r"\\"), source)
        assert found == 1, f"entry.html has no written-out {name}"
        extends = '{% extends "layout.html" %}\n'
        source = source.replace(extends, f'{extends}{{% from "{macro}" import {name} %}}\n', 1)
    assert "govuk-summary-list__row" not in source  # nothing written out is left
    assert "govuk-tag--" not in source
    return environment.from_string(source)


def _request(app: Litestar, number: str) -> Request[Any, Any, Any]:
    path = f"/register/{number}"
    return Request(
        {  # type: ignore[arg-type]
            "type": "http",
            "app": app,
            "litestar_app": app,
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver.local")],
            "scheme": "http",
            "server": ("testserver.local", 80),
            "client": ("192.0.2.1", 1234),
            "http_version": "1.1",
            "asgi": {"version": "3.0"},
            "path_params": {},
            "state": {"csp_nonce": "nonce"},
        }
    )


class _Pages:
    def __init__(self, app: Litestar) -> None:
        self.app = app
        environment = _environment(_request(app, "PR1"))
        self.written_out = environment.get_template(pages.ENTRY_PAGE)
        self.macros = _with_macros(environment)

    def both(self, entry: PublicEntry) -> tuple[str, str]:
        """The page as entry.html makes it, and as the macros made it."""
        request = _request(self.app, entry.registration_number)
        context = {"entry": entry, "request": request, "csrf_input": ""}
        return self.written_out.render(**context), self.macros.render(**context)


def _entry(status: RegisterStatus, **changes: Any) -> PublicEntry:
    fields: dict[str, Any] = {
        "registration_number": "PR1000011",
        "name": "Jane Smith",
        "given_names": "Jane",
        "family_name": "Smith",
        "roles": [CodeAndName(code="probation_officer", name="Probation officer")],
        "region": CodeAndName(code="london", name="London"),
        "status": status,
        "status_label": STATUS_LABELS[status],
        "registered_since": date(2015, 4, 1),
        "registered_until": date(2027, 11, 30),
        "qualifications": [PublicQualification(name="PQiP", awarded_on=date(2014, 7, 1))],
        "restrictions": [],
        "removed_on": date(2026, 3, 2) if status in REMOVAL_REASONS else None,
        "removal_reason": REMOVAL_REASONS.get(status),
        "updated_at": datetime(2026, 11, 28, 7, 5, tzinfo=UTC),
    }
    return PublicEntry(**{**fields, **changes})


def _order(kind: str, ends_on: date | None = None) -> PublicRestriction:
    return PublicRestriction(
        kind=kind,
        summary="Must work under supervision & report <monthly>",
        starts_on=date(2026, 1, 5),
        ends_on=ends_on,
        decision_url="/conduct/decisions/FTP-2026-0001",
    )


SENIOR = CodeAndName(code="senior_probation_officer", name="Senior probation officer")
ENTRIES = [
    *(_entry(status) for status in RegisterStatus),
    _entry(
        RegisterStatus.registered_with_conditions,
        restrictions=[_order("conditions_of_practice", date(2027, 1, 5))],
    ),
    _entry(
        RegisterStatus.suspended,
        restrictions=[_order("suspension"), _order("conditions_of_practice", date(2026, 6, 1))],
    ),
    _entry(RegisterStatus.registered, restrictions=[_order("warning", date(2026, 7, 5))]),
    _entry(RegisterStatus.removed, restrictions=[_order("suspension")]),  # not shown once off
    _entry(RegisterStatus.registered, roles=[]),
    _entry(RegisterStatus.registered, roles=[SENIOR, SENIOR.model_copy(update={"name": "PSO"})]),
    _entry(RegisterStatus.registered, qualifications=[]),
    _entry(
        RegisterStatus.registered,
        qualifications=[PublicQualification(name="PQiP"), PublicQualification(name="DipPS <&>")],
    ),
    _entry(RegisterStatus.lapsed, removal_reason=""),
    _entry(
        RegisterStatus.suspended,
        name='Zoë O\'Brien-<b>Smith</b> & "Co"',
        region=CodeAndName(code="wales", name="Wales & <Borders>"),
    ),
]


async def test_the_written_out_page_is_the_page_the_govuk_macros_made(app: Litestar) -> None:
    pages_ = _Pages(app)
    for entry in ENTRIES:
        page, expected = pages_.both(entry)
        assert page == expected, entry
        assert page.count('class="govuk-summary-list__row"') >= 6
        warned = entry.status.value in ("suspended", "removed", "lapsed", "voluntarily_removed")
        assert ('class="govuk-warning-text"' in page) == warned


async def test_real_entries_are_shown_as_the_govuk_macros_showed_them(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    pages_ = _Pages(app)
    on = await put_on_register(
        "Priya", "Sharma", roles=("probation_officer", "senior_probation_officer")
    )
    for move in (None, EntryMove.lapse, EntryMove.restoration, EntryMove.removal):
        if move is not None:
            await service.move_entry(on.id, move, reason="Test")
        stored = await service.public_document(on.registration_number)
        page, expected = pages_.both(PublicEntry.model_validate_json(stored.json))
        assert page == expected, move
        served = await client.get(f"/register/{on.registration_number}")
        assert served.status_code == 200
        assert '<dl class="govuk-summary-list">' in served.text


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
_DAY = st.dates(date(1990, 1, 1), date(2040, 12, 31))


@st.composite
def _entries(draw: st.DrawFn) -> PublicEntry:
    status = draw(st.sampled_from(list(RegisterStatus)))
    named = st.builds(CodeAndName, code=_TEXT, name=_TEXT)
    return _entry(
        status,
        name=draw(_TEXT),
        status_label=draw(_TEXT),
        roles=draw(st.lists(named, max_size=3)),
        region=draw(named),
        registered_since=draw(_DAY),
        registered_until=draw(_DAY),
        qualifications=draw(
            st.lists(st.builds(PublicQualification, name=_TEXT, awarded_on=st.none()), max_size=3)
        ),
        restrictions=draw(
            st.lists(
                st.builds(
                    PublicRestriction,
                    kind=_TEXT,
                    summary=_TEXT,
                    starts_on=_DAY,
                    ends_on=st.none() | _DAY,
                    decision_url=_TEXT,
                ),
                max_size=2,
            )
        ),
        removed_on=draw(st.none() | _DAY),
        removal_reason=draw(st.none() | _TEXT),
    )


async def test_any_entry_is_shown_as_the_govuk_macros_showed_it(app: Litestar) -> None:
    pages_ = _Pages(app)

    @given(_entries())
    def same(entry: PublicEntry) -> None:
        page, expected = pages_.both(entry)
        assert page == expected

    same()
