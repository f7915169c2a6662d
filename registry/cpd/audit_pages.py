"""CPD audit pages: the chosen practitioner's profile (what to submit, the form, check answers,
more information, the outcome); the assessors' queue, a profile's review with its evidence and
their decision; the moderation queue; the registrar's cases and decisions; and the figures per
year, with a chart, and as CSV. Thin: read the form, call the workflow, render."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from litestar import Controller, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import ConfigDict, Field

from registry.accounts.auth import SignedInRequest
from registry.accounts.roles import Role
from registry.core import clock
from registry.core.reference import list_items
from registry.cpd import activities, audit_workflow
from registry.cpd.api import calendar_of
from registry.cpd.audit_api import (
    AssessmentIn,
    DecisionIn,
    InformationIn,
    ModerationIn,
    ProfileIn,
    statistics_csv,
)
from registry.cpd.audit_workflow import CaseRecord, Move, Profile
from registry.cpd.reference import STANDARDS
from registry.cpd.schemas import hours_text
from registry.cpd.tables import ACTIVITY_TYPE_LABELS, AuditCaseState
from registry.errors import Conflict, InvalidInput, PermissionDenied
from registry.web import dates
from registry.web.forms import Form, FormErrors, form_page, read_form, read_query, validate

SEE_OTHER: Literal[303] = 303
MINE = "/cpd/audit"
CASES = "/cpd/audit/cases"
S = AuditCaseState

BARS = (
    ("sampled", "Sampled"),
    ("submitted", "Submitted"),
    ("on_time", "On time"),
    ("met", "Met the standards"),
    ("not_met", "Did not meet them"),
)

# Each state as a tag: its words and colour.
STATES: dict[AuditCaseState, tuple[str, str]] = {
    S.awaiting_profile: ("Profile awaited", "govuk-tag--blue"),
    S.submitted: ("Submitted", "govuk-tag--purple"),
    S.more_information: ("More information needed", "govuk-tag--yellow"),
    S.met: ("Meets the standards", "govuk-tag--green"),
    S.not_met: ("Does not meet the standards", "govuk-tag--red"),
    S.overdue: ("Not submitted in time", "govuk-tag--red"),
    S.advised: ("Advice given", "govuk-tag--grey"),
    S.lapsed: ("Registration lapsed", "govuk-tag--red"),
}
MOVE_LABELS: dict[str, str] = {
    Move.submit: "Profile submitted",
    Move.add_information: "More information sent",
    Move.meets: "Assessed: meets the standards",
    Move.does_not_meet: "Assessed: does not meet the standards",
    Move.request_information: "Assessor asked for more information",
    Move.overdue: "Not submitted in time",
    Move.advise: "Registrar gave advice",
    Move.extend: "Registrar gave more time",
    Move.lapse: "Registrar lapsed the registration",
}
BANNERS = {
    "submitted": "Your CPD profile has been submitted",
    "informed": "Your information has been sent to the assessor",
    "assessed": "Decision recorded",
    "moderated": "Moderation recorded",
    "decided": "Decision recorded and the practitioner emailed",
}
ASSESSMENTS = {
    "meets": Move.meets,
    "does_not_meet": Move.does_not_meet,
    "request_information": Move.request_information,
}


def _shared() -> dict[str, Any]:
    return {"states": STATES, "move_labels": MOVE_LABELS, "hours_text": hours_text}


async def _standards(case: CaseRecord | None = None) -> list[dict[str, str]]:
    """The standards a profile speaks to: those in use, and any a case's statements name."""
    named = set(case.statements) if case is not None else set()
    return [
        {"code": item.code, "name": item.name}
        for item in await list_items(STANDARDS)
        if item.active or item.code in named
    ]


# --- the chosen practitioner -----------------------------------------------------------------


def _profile_values(values: Mapping[str, Any], standards: list[dict[str, str]]) -> dict[str, Any]:
    """The posted profile as its schema reads it (and as the form shows it again)."""
    chosen = values.get("activity_ids", [])
    chosen = chosen if isinstance(chosen, list) else [chosen]
    return {
        "summary_of_practice": values.get("summary_of_practice", ""),
        "activity_ids": [each for each in chosen if isinstance(each, str) and each],
        "statements": {
            standard["code"]: _typed(values.get(f"statement_{standard['code']}"))
            for standard in standards
        },
    }


def _typed(value: Any) -> str:
    return value if isinstance(value, str) else ""


class MyAuditPages(Controller):
    path = MINE
    include_in_schema = False

    @get("/", name="cpd_audit")
    async def mine(self, request: SignedInRequest) -> Template | Redirect:
        owner = await activities.find_owner(request.user.id)
        if owner is None:
            return Redirect("/cpd", status_code=SEE_OTHER)
        cases = await audit_workflow.cases_of(owner.practitioner_id)
        return Template("cpd/audit/mine.html", context={"cases": cases, **_shared()})

    @get("/{case_id:int}", name="cpd_audit_case")
    async def case(self, request: SignedInRequest, case_id: FromPath[int]) -> Template:
        case = await audit_workflow.own_case(request.user.id, case_id)
        return await _case_page(case, FormErrors(), {}, request.query_params.get("done", ""))

    @get("/{case_id:int}/profile", name="cpd_audit_profile")
    async def profile(self, request: SignedInRequest, case_id: FromPath[int]) -> Template:
        case = await audit_workflow.own_case(request.user.id, case_id)
        errors = FormErrors()
        if case.state is not S.awaiting_profile:
            errors.refuse(Conflict(audit_workflow.MOVES[Move.submit].refusal))
            return await _case_page(case, errors, {})
        return await _profile_form(request, case, errors, {"activity_ids": []})

    @post("/{case_id:int}/profile", name="cpd_audit_profile_check")
    async def check(self, request: SignedInRequest, case_id: FromPath[int]) -> Template:
        """Check answers: shown only when the profile would be accepted as it stands; with
        ``change``, the form again with what was typed."""
        case = await audit_workflow.own_case(request.user.id, case_id)
        values = await read_form(request)
        standards = await _standards()
        shown = _profile_values(values, standards)
        if "change" in values:
            return await _profile_form(request, case, FormErrors(), shown)
        profile, errors = _read_profile(shown)
        if profile is not None:
            with errors.catch(InvalidInput, Conflict, rename={"statements": "form"}):
                await audit_workflow.check_profile(
                    case_id, by_user_id=request.user.id, profile=profile
                )
                chosen = await activities.chosen_for_audit(
                    case.practitioner_id, profile.activity_ids, calendar_of(request)
                )
                return form_page(
                    "cpd/audit/check.html",
                    errors,
                    case=case,
                    values=shown,
                    standards=standards,
                    chosen=chosen,
                    **_shared(),
                )
        return await _profile_form(request, case, errors, shown)

    @post("/{case_id:int}/submit", name="cpd_audit_submit")
    async def submit(self, request: SignedInRequest, case_id: FromPath[int]) -> Template | Redirect:
        case = await audit_workflow.own_case(request.user.id, case_id)
        values = await read_form(request)
        standards = await _standards()
        shown = _profile_values(values, standards)
        profile, errors = _read_profile(shown)
        if profile is not None:
            with errors.catch(InvalidInput, Conflict, rename={"statements": "form"}):
                await audit_workflow.perform(
                    case_id, Move.submit, by_user_id=request.user.id, profile=profile
                )
                return Redirect(f"{MINE}/{case_id}?done=submitted", status_code=SEE_OTHER)
        if errors.refusal is not None and isinstance(errors.refusal, Conflict):
            return await _case_page(await audit_workflow.get_case(case_id), errors, {})
        return await _profile_form(request, case, errors, shown)

    @post("/{case_id:int}/information", name="cpd_audit_inform")
    async def inform(self, request: SignedInRequest, case_id: FromPath[int]) -> Template | Redirect:
        case = await audit_workflow.own_case(request.user.id, case_id)
        values = await read_form(request)
        data, errors = validate(InformationIn, {"information": values.get("information", "")})
        if data is not None:
            with errors.catch(InvalidInput, Conflict, rename={"reason": "information"}):
                await audit_workflow.perform(
                    case_id,
                    Move.add_information,
                    by_user_id=request.user.id,
                    reason=data.information,
                )
                return Redirect(f"{MINE}/{case_id}?done=informed", status_code=SEE_OTHER)
        return await _case_page(case, errors, values)


def _read_profile(shown: dict[str, Any]) -> tuple[Profile | None, FormErrors]:
    """The profile's summary and choices checked by its schema; each statement (a field of its
    own on the page) is checked by the workflow, which names the field it refuses."""
    data, errors = validate(ProfileIn, {**shown, "statements": {}})
    if data is None:
        return None, errors
    return Profile(data.summary_of_practice, data.activity_ids, dict(shown["statements"])), errors


async def _profile_form(
    request: SignedInRequest, case: CaseRecord, errors: FormErrors, shown: Mapping[str, Any]
) -> Template:
    logged = await activities.list_for(
        request.user.id, calendar_of(request), year=case.registration_year
    )
    return form_page(
        "cpd/audit/profile.html",
        errors,
        case=case,
        values=shown,
        standards=await _standards(),
        logged=logged,
        **_shared(),
    )


async def _case_page(
    case: CaseRecord, errors: FormErrors, values: Mapping[str, Any], done: str = ""
) -> Template:
    return form_page(
        "cpd/audit/case.html",
        errors,
        case=case,
        values=values,
        standards=await _standards(),
        moves=await audit_workflow.moves_of(case.id),
        banner=BANNERS.get(done, ""),
        today=clock.now().date(),
        **_shared(),
    )


# --- assessors and registrars ------------------------------------------------------------------


class QueueFilter(Form):
    model_config = ConfigDict(extra="ignore")

    state: AuditCaseState | None = Field(default=None, title="Status")
    overdue: bool = Field(default=False, title="Only those past their date")


class AuditCasePages(Controller):
    path = CASES
    include_in_schema = False

    @get("/", name="cpd_audit_cases")
    async def queue(self, request: SignedInRequest) -> Template:
        query = read_query(request, QueueFilter)
        chosen = query.form or QueueFilter()
        cases = await audit_workflow.queue(state=chosen.state, overdue=chosen.overdue)
        return form_page(
            "cpd/audit/queue.html",
            query.errors,
            cases=cases if query.form is not None else [],
            values=query.values,
            **_shared(),
        )

    @get("/{case_id:int}", name="cpd_audit_review")
    async def review(self, request: SignedInRequest, case_id: FromPath[int]) -> Template:
        return await _review_page(
            request, case_id, FormErrors(), {}, request.query_params.get("done", "")
        )

    @post("/{case_id:int}/assessment", name="cpd_audit_assess")
    async def assess(self, request: SignedInRequest, case_id: FromPath[int]) -> Template | Redirect:
        await audit_workflow.get_case(case_id)
        values = await read_form(request)
        raw = {name: values.get(name, "") for name in ("outcome", "reasons")}
        raw["version"] = values.get("version") or None
        data, errors = validate(AssessmentIn, raw)
        if data is not None:
            with errors.catch(InvalidInput, Conflict, rename={"reason": "reasons"}):
                await audit_workflow.perform(
                    case_id,
                    ASSESSMENTS[data.outcome],
                    by_user_id=request.user.id,
                    reason=data.reasons,
                    version=data.version,
                )
                return Redirect(f"{CASES}/{case_id}?done=assessed", status_code=SEE_OTHER)
        return await _review_page(request, case_id, errors, values)

    @post("/{case_id:int}/moderation", name="cpd_audit_moderate")
    async def moderate(
        self, request: SignedInRequest, case_id: FromPath[int]
    ) -> Template | Redirect:
        await audit_workflow.get_case(case_id)
        values = await read_form(request)
        raw = {name: values.get(name, "") for name in ("agrees", "notes")}
        data, errors = validate(ModerationIn, raw)
        if data is not None:
            with errors.catch(InvalidInput, Conflict, PermissionDenied):
                await audit_workflow.moderate(
                    case_id, by_user_id=request.user.id, agrees=data.agrees, notes=data.notes
                )
                return Redirect(f"{CASES}/{case_id}?done=moderated", status_code=SEE_OTHER)
        return await _review_page(request, case_id, errors, values)

    @post("/{case_id:int}/decision", name="cpd_audit_decide")
    async def decide(self, request: SignedInRequest, case_id: FromPath[int]) -> Template | Redirect:
        await audit_workflow.get_case(case_id)
        values = await read_form(request)
        raw: dict[str, Any] = {name: values.get(name, "") for name in ("decision", "reasons")}
        typed: date | str | None = None
        if any(values.get(f"new_due_on-{part}") for part in ("day", "month", "year")):
            typed = dates.read_date(values, "new_due_on", "The new date", "")
        raw["new_due_on"] = typed if isinstance(typed, date) else None
        data, errors = validate(DecisionIn, raw)
        errors.date_fields = frozenset({"new_due_on"})
        if isinstance(typed, str):
            errors.add("new_due_on", typed)
        elif data is not None:
            with errors.catch(InvalidInput, Conflict, rename={"reason": "reasons"}):
                await audit_workflow.perform(
                    case_id,
                    Move(data.decision),
                    by_user_id=request.user.id,
                    reason=data.reasons,
                    new_due_on=data.new_due_on,
                )
                return Redirect(f"{CASES}/{case_id}?done=decided", status_code=SEE_OTHER)
        return await _review_page(request, case_id, errors, values)


async def _review_page(
    request: SignedInRequest,
    case_id: int,
    errors: FormErrors,
    values: Mapping[str, Any],
    done: str = "",
) -> Template:
    case = await audit_workflow.get_case(case_id)
    listed = await audit_workflow.listed_case(case_id)
    roles = request.user.roles
    return form_page(
        "cpd/audit/review.html",
        errors,
        case=case,
        listed=listed,
        values=values,
        standards=await _standards(case),
        chosen=await activities.chosen_for_audit(
            case.practitioner_id, case.chosen_activities, calendar_of(request)
        ),
        moves=await audit_workflow.moves_of(case_id),
        assessor=Role.cpd_assessor in roles,
        registrar=Role.registrar in roles,
        type_labels=ACTIVITY_TYPE_LABELS,
        banner=BANNERS.get(done, ""),
        **_shared(),
    )


class ModerationPages(Controller):
    path = "/cpd/audit/moderation"
    include_in_schema = False

    @get("/", name="cpd_audit_moderation")
    async def queue(self, request: SignedInRequest) -> Template:
        return Template(
            "cpd/audit/moderation.html",
            context={
                "cases": await audit_workflow.moderation_queue(),
                "me": request.user.id,
                **_shared(),
            },
        )


class RegistrarAuditPages(Controller):
    path = "/registrar/cpd/audit"
    include_in_schema = False

    @get("/", name="registrar_cpd_audit")
    async def queue(self) -> Template:
        return Template(
            "cpd/audit/registrar.html",
            context={"cases": await audit_workflow.registrar_queue(), **_shared()},
        )


# --- the figures ---------------------------------------------------------------------------


class AuditStatisticsPages(Controller):
    path = "/cpd/audit/statistics"
    include_in_schema = False

    @get("/", name="cpd_audit_statistics")
    async def page(self) -> Template:
        return Template(
            "cpd/audit_statistics.html",
            context={"years": await audit_workflow.statistics(), "bars": BARS},
        )

    @get("/statistics.csv", name="cpd_audit_statistics_csv")
    async def csv(self) -> Response[bytes]:
        return Response(
            await statistics_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="cpd-audit-statistics.csv"'},
        )
