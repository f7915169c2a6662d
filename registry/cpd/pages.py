"""CPD pages: a practitioner's dashboard (progress and activities), logging and changing an
activity with its evidence, evidence downloads for the owner and CPD staff, and the admins'
rule packs. Thin: read the form, call the service, render."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import File, Redirect, Response, Template

from registry.accounts.auth import SignedInRequest
from registry.accounts.roles import Role
from registry.certificates import serials
from registry.core import clock
from registry.core.reference import list_items
from registry.cpd import activities, audit_workflow, export, packs, progress, statement
from registry.cpd.api import Year, calendar_of, data_dir_of
from registry.cpd.reference import PRACTICE_AREAS, STANDARDS
from registry.cpd.schemas import ActivityIn, RulePackIn, hours_text
from registry.cpd.tables import ACTIVITY_TYPE_LABELS, AuditCaseState
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register import evidence
from registry.web import dates
from registry.web.forms import Form, FormErrors, form_page, read_form, validate

AnyRequest = Request[Any, Any, Any]
SEE_OTHER: Literal[303] = 303
DASHBOARD = "/cpd"
# Audit cases the practitioner has something to do for, which the dashboard points to.
AWAITING_PRACTITIONER = frozenset(
    {AuditCaseState.awaiting_profile, AuditCaseState.more_information}
)

ACTIVITY_FIELDS = (
    "title",
    "hours",
    "activity_type",
    "participatory",
    "what_happened",
    "what_learned",
    "practice_changed",
    "peer_reflection",
    "peer_role",
    "change_reason",
)


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


def read_dated_form(
    model: type[Form],
    values: Mapping[str, Any],
    fields: tuple[str, ...],
    dated: tuple[str, str, str],
    lists: tuple[str, ...] = (),
    *,
    also_dated: tuple[tuple[str, str, str], ...] = (),
) -> tuple[Any, FormErrors]:
    """A posted form with GOV.UK date inputs (``dated`` and ``also_dated``: each one's name,
    label and the message when it is blank), validated by ``model``; errors in the page's
    order."""
    raw: dict[str, Any] = {field: values.get(field, "") for field in fields}
    raw.update({field: _as_list(values.get(field)) for field in lists})
    wrong: dict[str, str] = {}
    for name, label, missing in (dated, *also_dated):
        typed = dates.read_date(values, name, label, missing)
        raw[name] = typed if isinstance(typed, date) else ""
        if isinstance(typed, str):
            wrong[name] = typed
    form, errors = validate(model, raw)
    if wrong:
        errors.by_field.update(wrong)
        return None, errors
    return form, errors


def read_activity(values: Mapping[str, Any]) -> tuple[ActivityIn | None, FormErrors]:
    return read_dated_form(
        ActivityIn,
        values,
        ACTIVITY_FIELDS,
        ("done_on", "Date of the activity", "Enter the date of the activity"),
        lists=("practice_areas", "standards"),
    )


def activity_values(record: activities.ActivityRecord) -> dict[str, Any]:
    """A recorded activity as its form shows it."""
    return {
        "title": record.title,
        **dates.date_values("done_on", record.done_on),
        "hours": hours_text(record.quarters),
        "activity_type": record.activity_type.value,
        "participatory": "yes" if record.participatory else "no",
        "practice_areas": [area.code for area in record.practice_areas],
        "standards": [standard.code for standard in record.standards],
        "what_happened": record.what_happened,
        "what_learned": record.what_learned,
        "practice_changed": record.practice_changed,
        "peer_reflection": "yes" if record.peer_reflection else "no",
        "peer_role": record.peer_role,
    }


async def _choices(kept: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The lists the activity form offers: items in use, and any retired one the activity
    already carries (kept, so saving it again does not lose it)."""
    kept = kept or {}

    async def offered(of: Any) -> list[dict[str, str]]:
        return [
            {"value": item.code, "text": item.name}
            for item in await list_items(of)
            if item.active or item.code in kept
        ]

    return {
        "area_choices": await offered(PRACTICE_AREAS),
        "standard_choices": await offered(STANDARDS),
        "type_choices": [
            {"value": kind.value, "text": label} for kind, label in ACTIVITY_TYPE_LABELS.items()
        ],
    }


async def _activity_form(
    errors: FormErrors,
    values: Mapping[str, Any],
    *,
    record: activities.ActivityRecord | None = None,
) -> Template:
    kept = {}
    if record is not None:
        kept = {named.code: named.name for named in (*record.practice_areas, *record.standards)}
    shown = {
        **values,
        **{name: _as_list(values.get(name)) for name in ("practice_areas", "standards")},
    }
    return form_page(
        "cpd/activity_form.html",
        errors,
        values=shown,
        record=record,
        **await _choices(kept),
    )


class CpdPages(Controller):
    path = DASHBOARD
    include_in_schema = False

    @get("/", name="cpd_dashboard")
    async def dashboard(self, request: SignedInRequest, year: Year = None) -> Template:
        owner = await activities.find_owner(request.user.id)
        if owner is None:
            return Template("cpd/not_registered.html")
        calendar = calendar_of(request)
        years = progress.years_of(owner, calendar)
        shown = year if year in years else years[0]
        every = await progress.progress(request.user.id, calendar)
        chosen = next(each for each in every if each.registration_year == shown)
        logged = await activities.list_for(request.user.id, calendar, year=shown)
        return Template(
            "cpd/dashboard.html",
            context={
                "year": chosen,
                "years": every,
                "activities": logged,
                "type_labels": ACTIVITY_TYPE_LABELS,
                "hours_text": hours_text,
                "banner": request.query_params.get("done", ""),
                "statement": _serial_shown(request.query_params.get("statement", "")),
                "days_left": (chosen.ends_on - clock.now().date()).days,
                "audits": [
                    case
                    for case in await audit_workflow.cases_of(owner.practitioner_id)
                    if case.state in AWAITING_PRACTITIONER
                ],
            },
        )

    @get("/export.csv", name="cpd_export_csv")
    async def export_csv(self, request: SignedInRequest) -> Response[bytes]:
        """Every activity as CSV, to keep or to open in a spreadsheet."""
        content = await export.csv_document(request.user.id, calendar_of(request))
        return Response(
            content, media_type="text/csv; charset=utf-8", headers=export.download_headers("csv")
        )

    @get("/export.json", name="cpd_export_json")
    async def export_json(self, request: SignedInRequest) -> Response[bytes]:
        content = await export.json_document(request.user.id, calendar_of(request))
        return Response(
            content, media_type="application/json", headers=export.download_headers("json")
        )

    @post("/statement", name="cpd_statement_issue")
    async def issue_statement(self, request: SignedInRequest) -> Template | Redirect:
        """Issue the shown year's CPD statement, a certificate anyone can verify."""
        values = await read_form(request)
        year = values.get("year", "")
        calendar = calendar_of(request)
        errors = FormErrors()
        if not (isinstance(year, str) and year.isdigit() and len(year) == 4):
            errors.add("form", "Choose a registration year")
        else:
            with errors.catch(Conflict, NotFound):
                issued = await statement.issue(request.user.id, int(year), calendar)
                shown = urlencode({"year": year, "statement": issued.display_serial})
                return Redirect(f"{DASHBOARD}?{shown}", status_code=SEE_OTHER)
        return form_page("cpd/statement_refused.html", errors, year=year)

    @get("/activities/new", name="cpd_activity_new")
    async def new(self, request: SignedInRequest) -> Template | Redirect:
        if await activities.find_owner(request.user.id) is None:
            return Redirect(DASHBOARD, status_code=SEE_OTHER)
        return await _activity_form(FormErrors(), {"peer_reflection": "no"})

    @post("/activities/new", name="cpd_activity_create")
    async def create(self, request: SignedInRequest) -> Template | Redirect:
        values = await read_form(request)
        data, errors = read_activity(values)
        if data is not None:
            with errors.catch(InvalidInput, Conflict):
                made = await activities.record(request.user.id, data, calendar_of(request))
                return Redirect(f"/cpd/activities/{made.id}?done=logged", status_code=SEE_OTHER)
        return await _activity_form(errors, values)

    @get("/activities/{activity_id:int}", name="cpd_activity")
    async def one(self, request: SignedInRequest, activity_id: FromPath[int]) -> Template:
        record = await activities.get(request.user.id, activity_id, calendar_of(request))
        return _activity_page(record, FormErrors(), request.query_params.get("done", ""))

    @get("/activities/{activity_id:int}/edit", name="cpd_activity_edit")
    async def edit(self, request: SignedInRequest, activity_id: FromPath[int]) -> Template:
        record = await activities.get(request.user.id, activity_id, calendar_of(request))
        return await _activity_form(FormErrors(), activity_values(record), record=record)

    @post("/activities/{activity_id:int}/edit", name="cpd_activity_update")
    async def update(
        self, request: SignedInRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        calendar = calendar_of(request)
        record = await activities.get(request.user.id, activity_id, calendar)
        values = await read_form(request)
        data, errors = read_activity(values)
        if data is not None:
            with errors.catch(InvalidInput, Conflict):
                await activities.update(request.user.id, activity_id, data, calendar)
                return Redirect(
                    f"/cpd/activities/{activity_id}?done=changed", status_code=SEE_OTHER
                )
        return await _activity_form(errors, values, record=record)

    @get("/activities/{activity_id:int}/delete", name="cpd_activity_delete_confirm")
    async def delete_page(self, request: SignedInRequest, activity_id: FromPath[int]) -> Template:
        record = await activities.get(request.user.id, activity_id, calendar_of(request))
        return form_page("cpd/delete.html", FormErrors(), record=record, values={})

    @post("/activities/{activity_id:int}/delete", name="cpd_activity_delete")
    async def delete(
        self, request: SignedInRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        calendar = calendar_of(request)
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict):
            await activities.delete(request.user.id, activity_id, calendar, reason=_reason(values))
            return Redirect(f"{DASHBOARD}?done=removed", status_code=SEE_OTHER)
        record = await activities.get(request.user.id, activity_id, calendar)
        return form_page("cpd/delete.html", errors, record=record, values=values)

    @post(
        "/activities/{activity_id:int}/evidence",
        name="cpd_evidence_upload",
        request_max_body_size=evidence.UPLOAD_BODY_LIMIT,
    )
    async def upload(
        self, request: SignedInRequest, activity_id: FromPath[int]
    ) -> Template | Redirect:
        calendar = calendar_of(request)
        values = await read_form(request)
        filename, data = await evidence.read_upload(values.get(evidence.FIELD))
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict, field=evidence.FIELD):
            await activities.attach_evidence(
                request.user.id,
                activity_id,
                filename,
                data,
                data_dir_of(request),
                calendar,
                reason=_reason(values),
            )
            return Redirect(f"/cpd/activities/{activity_id}?done=uploaded", status_code=SEE_OTHER)
        record = await activities.get(request.user.id, activity_id, calendar)
        return _activity_page(record, errors)

    @post(
        "/activities/{activity_id:int}/evidence/{evidence_id:int}/remove",
        name="cpd_evidence_remove",
    )
    async def remove_file(
        self, request: SignedInRequest, activity_id: FromPath[int], evidence_id: FromPath[int]
    ) -> Template | Redirect:
        calendar = calendar_of(request)
        errors = FormErrors()
        with errors.catch(Conflict):
            await activities.remove_evidence(request.user.id, activity_id, evidence_id, calendar)
            return Redirect(
                f"/cpd/activities/{activity_id}?done=file_removed", status_code=SEE_OTHER
            )
        record = await activities.get(request.user.id, activity_id, calendar)
        return _activity_page(record, errors)

    @get("/evidence/{evidence_id:int}", name="cpd_evidence_download")
    async def evidence_download(self, request: SignedInRequest, evidence_id: FromPath[int]) -> File:
        """The owner's own file, or any for CPD staff; anyone else is told it is not there."""
        staff = Role.cpd_assessor in request.user.roles
        stored = await activities.evidence_file(request.user.id, evidence_id, cpd_staff=staff)
        return evidence.download(request, stored)


def _serial_shown(value: str) -> str:
    """A serial the banner may repeat: only a well-formed one (its check character may be
    ``*~$=U``), so a link cannot make it say anything else."""
    try:
        return serials.display(serials.parse_serial(value[:60]))
    except InvalidInput:
        return ""


def _reason(values: Mapping[str, Any]) -> str:
    """The reason given for changing a declared year's activity ("" when none was typed)."""
    reason = values.get("change_reason", "")
    return reason if isinstance(reason, str) else ""


BANNERS = {
    "logged": "Activity logged. You can add evidence below.",
    "changed": "Activity changed",
    "uploaded": "Evidence file added",
    "file_removed": "Evidence file removed",
}


def _activity_page(
    record: activities.ActivityRecord, errors: FormErrors, done: str = ""
) -> Template:
    return form_page(
        "cpd/activity.html",
        errors,
        record=record,
        type_labels=ACTIVITY_TYPE_LABELS,
        hours_text=hours_text,
        banner=BANNERS.get(done, ""),
        max_upload_mb=evidence.MAX_BYTES // (1024 * 1024),
    )


# --- rule packs, for admins -------------------------------------------------------------

PACK_FIELDS = (
    "name",
    "min_total_hours",
    "min_participatory_hours",
    "min_reflective_accounts",
    "min_peer_reflections",
    "min_practice_areas",
    "capped_type",
    "cap_hours",
)


class RulePackPages(Controller):
    path = "/admin/cpd/rule-packs"
    include_in_schema = False

    @get("/", name="cpd_rule_packs")
    async def list_page(self, request: AnyRequest) -> Template:
        return await _packs_page(FormErrors(), {}, request.query_params.get("added", ""))

    @post("/", name="cpd_rule_pack_create")
    async def create(self, request: SignedInRequest) -> Template | Redirect:
        values = await read_form(request)
        shown = {**values, "capped_type": values.get("capped_type") or None}
        data, errors = read_dated_form(
            RulePackIn,
            shown,
            PACK_FIELDS,
            (
                "effective_from",
                "The date it comes into force",
                "Enter the date it comes into force",
            ),
        )
        if data is not None:
            with errors.catch(InvalidInput, Conflict):
                made = await packs.create_pack(data, by_user_id=request.user.id)
                return Redirect(f"/admin/cpd/rule-packs?added={made.id}", status_code=SEE_OTHER)
        return await _packs_page(errors, values)


async def _packs_page(errors: FormErrors, values: Mapping[str, Any], added: str = "") -> Template:
    every = await packs.list_packs()
    banner = next((f"Added {pack.name}" for pack in every if str(pack.id) == added), "")
    return form_page(
        "cpd/admin/rule_packs.html",
        errors,
        packs=every,
        values=values,
        banner=banner,
        hours_text=hours_text,
        type_labels=ACTIVITY_TYPE_LABELS,
        type_choices=[
            {"value": kind.value, "text": label} for kind, label in ACTIVITY_TYPE_LABELS.items()
        ],
    )
