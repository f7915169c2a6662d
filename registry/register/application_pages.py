"""Application pages: the applicant's question pages, and the registrar's queue and decisions.

The applicant's journey follows the GOV.UK "question pages" pattern: one thing per page, each
saved to the draft as they go, then "Check your answers" and a confirmation. The pages reach
only the signed-in applicant's own application (there is no application id in their addresses),
so one applicant can never name another's. The rules themselves live in ``applications``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import File, Redirect, Template
from markupsafe import Markup

from registry.accounts.auth import CurrentUser, SignedInRequest
from registry.accounts.users import get_account
from registry.config import Settings
from registry.core import clock
from registry.errors import Conflict, InvalidInput
from registry.register import evidence, fields, renewals, service
from registry.register.applications import answers, eligibility, records, workflow
from registry.register.applications.answers import InvalidAnswers
from registry.register.applications.records import ApplicationRecord
from registry.register.tables import ApplicationKind, ApplicationStatus
from registry.web.dates import date_values, read_date
from registry.web.forms import FormErrors, read_form
from registry.web.inputs import PageNumber
from registry.web.templating import multiline

AnyRequest = Request[Any, Any, Any]
SEE_OTHER: Literal[303] = 303
# The evidence page posts a file of up to 10 MB; the form around it needs a little more room.
UPLOAD_BODY_LIMIT = evidence.UPLOAD_BODY_LIMIT
DATE_FIELDS = ("date_of_birth", "awarded_on")


def _settings(request: AnyRequest) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _page(template: str, status: int = 200, **context: Any) -> Template:
    return Template(f"register/{template}", context=context, status_code=status)


def _error_href(name: str) -> str | None:
    if name == "form":  # about the whole page, not one field: nothing to link to
        return None
    if name.startswith("step:"):  # a page of the journey, from "Check your answers"
        return f"/apply/{name.removeprefix('step:')}"
    return f"#{name}-day" if name in DATE_FIELDS else f"#{name}"


def problems_context(problems: Mapping[str, str]) -> dict[str, Any]:
    """The error summary and the messages beside each field; a date links to its day box."""
    errors: list[dict[str, str]] = []
    for name, message in problems.items():
        href = _error_href(name)
        errors.append({"text": message, "href": href} if href else {"text": message})
    return {"errors": errors, "field_errors": dict(problems)}


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name, "")
    return value if isinstance(value, str) else ""


def _yes_no(values: Mapping[str, Any], name: str) -> bool | None:
    return {"yes": True, "no": False}.get(_text(values, name))


def _yes_no_value(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


# --- the question pages --------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    slug: str
    title: str  # the question, which is also the page's title and heading
    template: str
    load: Callable[[ApplicationRecord], dict[str, str]]
    parse: Callable[[Mapping[str, Any]], answers.Section] | None  # None: the upload page


def _parse_name(values: Mapping[str, Any]) -> answers.Section:
    return answers.Name(_text(values, "given_names"), _text(values, "family_name"))


def _parse_date_of_birth(values: Mapping[str, Any]) -> answers.Section:
    born = read_date(values, "date_of_birth", "Date of birth", "Enter your date of birth")
    if isinstance(born, str):
        raise InvalidAnswers({"date_of_birth": born})
    return answers.DateOfBirth(born)


def _parse_contact(values: Mapping[str, Any]) -> answers.Section:
    return answers.Contact(_text(values, "email"), _text(values, "phone"))


def _parse_address(values: Mapping[str, Any]) -> answers.Section:
    return answers.Address(_text(values, "address"), _text(values, "postcode"))


def _parse_role(values: Mapping[str, Any]) -> answers.Section:
    return answers.RoleAnswer(_text(values, "role"))


def _parse_region(values: Mapping[str, Any]) -> answers.Section:
    return answers.RegionAnswer(_text(values, "region"))


def _parse_qualification(values: Mapping[str, Any]) -> answers.Section:
    awarded = read_date(
        values, "awarded_on", "Date awarded", "Enter the date the qualification was awarded"
    )
    return answers.Qualification(
        _text(values, "qualification_type"),
        awarded if isinstance(awarded, date) else None,
        _text(values, "institution"),
        awarded_on_problem=awarded if isinstance(awarded, str) else "",
    )


def _parse_declaration(topic: str) -> Callable[[Mapping[str, Any]], answers.Section]:
    def parse(values: Mapping[str, Any]) -> answers.Section:
        return answers.Declaration(
            topic,
            _yes_no(values, f"{topic}_declaration"),
            _text(values, f"{topic}_details"),
        )

    return parse


STEPS: dict[str, Step] = {
    step.slug: step
    for step in (
        Step(
            "name",
            "What is your name?",
            "name.html",
            lambda r: {"given_names": r.given_names, "family_name": r.family_name},
            _parse_name,
        ),
        Step(
            "date-of-birth",
            "What is your date of birth?",
            "date_of_birth.html",
            lambda r: date_values("date_of_birth", r.date_of_birth),
            _parse_date_of_birth,
        ),
        Step(
            "contact",
            "How can we contact you?",
            "contact.html",
            lambda r: {"email": r.email, "phone": r.phone},
            _parse_contact,
        ),
        Step(
            "address",
            "What is your home address?",
            "address.html",
            lambda r: {"address": r.address, "postcode": r.postcode},
            _parse_address,
        ),
        Step(
            "role",
            "What is your designated role?",
            "role.html",
            lambda r: {"role": r.role_code},
            _parse_role,
        ),
        Step(
            "region",
            "Which probation region do you work in?",
            "region.html",
            lambda r: {"region": r.region_code},
            _parse_region,
        ),
        Step(
            "qualification",
            "Your qualification",
            "qualification.html",
            lambda r: {
                "qualification_type": r.qualification_code,
                "institution": r.qualification_institution,
                **date_values("awarded_on", r.qualification_awarded_on),
            },
            _parse_qualification,
        ),
        Step(
            "evidence",
            "Upload evidence of your qualification",
            "evidence.html",
            lambda r: {},
            None,
        ),
        Step(
            "character",
            "Do you have any convictions or cautions to declare?",
            "character.html",
            lambda r: {
                "character_declaration": _yes_no_value(r.character_declaration),
                "character_details": r.character_details,
            },
            _parse_declaration("character"),
        ),
        Step(
            "health",
            "Do you have a health condition to declare?",
            "health.html",
            lambda r: {
                "health_declaration": _yes_no_value(r.health_declaration),
                "health_details": r.health_details,
            },
            _parse_declaration("health"),
        ),
    )
}


def _step_links(record: ApplicationRecord, slug: str) -> tuple[str, str]:
    """The page before this one (for the back link) and the one after it."""
    order = answers.steps_for(record.kind)
    index = order.index(slug)
    start = "/apply" if record.kind is ApplicationKind.initial else "/apply/restoration"
    back = f"/apply/{order[index - 1]}" if index > 0 else start
    forward = f"/apply/{order[index + 1]}" if index + 1 < len(order) else "/apply/check"
    return back, forward


def _resume_path(record: ApplicationRecord) -> str:
    missing = answers.missing_answers(record)
    return f"/apply/{next(iter(missing))}" if missing else "/apply/check"


async def _reference_items(kind: str, chosen: str) -> list[dict[str, Any]]:
    reference = await service.reference_data()
    table = {
        "role": reference.roles,
        "region": reference.regions,
        "qualification": reference.qualifications,
    }[kind]
    return [
        {"value": code, "text": ref.name, "checked": code == chosen} for code, ref in table.items()
    ]


async def _step_page(
    step: Step,
    record: ApplicationRecord,
    values: Mapping[str, Any],
    *,
    change: bool,
    problems: Mapping[str, str] | None = None,
    status: int = 200,
) -> Template:
    back, _ = _step_links(record, step.slug)
    items: list[dict[str, Any]] = []
    if step.slug in ("role", "region", "qualification"):
        chosen = _text(values, "qualification_type" if step.slug == "qualification" else step.slug)
        items = await _reference_items(step.slug, chosen)
    return _page(
        f"apply/{step.template}",
        status,
        step=step,
        record=record,
        values=dict(values),
        items=items,
        change=change,
        back="/apply/check" if change else back,
        caption=_caption(record),
        max_upload_mb=evidence.MAX_BYTES // (1024 * 1024),
        **problems_context(problems or {}),
    )


def _caption(record: ApplicationRecord) -> str:
    return (
        "Apply to join the register"
        if record.kind is ApplicationKind.initial
        else "Apply for restoration"
    )


async def _draft_of(user: CurrentUser) -> ApplicationRecord | None:
    record = await records.latest_for(user.id)
    return record if record is not None and record.status is ApplicationStatus.draft else None


async def _start_context(user: CurrentUser, kind: ApplicationKind) -> dict[str, Any]:
    """What the start page needs: the person's entry, their application, and whether (and if
    not, why not) they may start one of this kind now."""
    record = await records.latest_for(user.id)
    refusal = ""
    try:
        await eligibility.check_can_apply(user.id, kind)
    except Conflict as error:
        refusal = error.detail
    return {
        "record": record,
        "entry": await renewals.practitioner_entry(user.id),
        "refusal": refusal,
        "unconfirmed": not (await get_account(user.id)).email_confirmed,
        "kind": kind.value,
    }


class ApplicationPages(Controller):
    """The applicant's side: start, the question pages, check your answers, confirmation."""

    path = "/apply"
    include_in_schema = False

    @get("/", name="apply_start")
    async def start_page(self, request: SignedInRequest) -> Template | Redirect:
        user = request.user
        draft = await _draft_of(user)
        if draft is not None and draft.kind is ApplicationKind.restoration:
            return Redirect("/apply/restoration", status_code=SEE_OTHER)
        context = await _start_context(user, ApplicationKind.initial)
        return _page(
            "apply/start.html",
            draft=draft,
            resume=_resume_path(draft) if draft else "",
            **context,
        )

    @post("/", name="apply_begin")
    async def begin(self, request: AnyRequest) -> Template | Redirect:
        return await _begin(request, ApplicationKind.initial)

    @get("/restoration", name="apply_restoration")
    async def restoration_page(self, request: SignedInRequest) -> Template | Redirect:
        user = request.user
        draft = await _draft_of(user)
        if draft is not None and draft.kind is ApplicationKind.initial:
            return Redirect("/apply", status_code=SEE_OTHER)
        context = await _start_context(user, ApplicationKind.restoration)
        return _page(
            "apply/restoration.html",
            draft=draft,
            resume=_resume_path(draft) if draft else "",
            **context,
        )

    @post("/restoration", name="apply_restoration_begin")
    async def restoration_begin(self, request: AnyRequest) -> Template | Redirect:
        return await _begin(request, ApplicationKind.restoration)

    @get("/check", name="apply_check")
    async def check(self, request: SignedInRequest) -> Template | Redirect:
        draft = await _draft_of(request.user)
        if draft is None:
            return Redirect("/your-application", status_code=SEE_OTHER)
        return _check_page(draft, {})

    @post("/check", name="apply_submit")
    async def submit(self, request: SignedInRequest) -> Template | Redirect:
        user = request.user
        draft = await _draft_of(user)
        if draft is None:
            return Redirect("/your-application", status_code=SEE_OTHER)
        errors = FormErrors()
        with errors.catch(InvalidAnswers, Conflict):
            await workflow.submit(draft.id, user.id)
            return Redirect("/apply/submitted", status_code=SEE_OTHER)
        problems = errors.by_field
        if isinstance(errors.refusal, InvalidAnswers):
            # Unanswered pages link to themselves; a rule about an answer (a date of birth
            # that no longer passes, say) links to the page that asked it.
            problems = {
                "step:" + ("date-of-birth" if name == "date_of_birth" else name): message
                for name, message in problems.items()
            }
        return _check_page(draft, problems, errors.status)

    @get("/submitted", name="apply_submitted")
    async def submitted(self, request: SignedInRequest) -> Template | Redirect:
        record = await records.latest_for(request.user.id)
        if record is None or record.status is ApplicationStatus.draft:
            return Redirect("/apply", status_code=SEE_OTHER)
        return _page("apply/submitted.html", record=record)

    @get("/{step:str}", name="apply_step")
    async def step_page(
        self,
        request: SignedInRequest,
        step: FromPath[str],
        change: Annotated[bool, QueryParameter()] = False,
    ) -> Template | Redirect:
        found = _step(step)
        draft = await _draft_of(request.user)
        if draft is None:
            return Redirect("/apply", status_code=SEE_OTHER)
        if step not in answers.steps_for(draft.kind):
            raise NotFoundException("That question is not part of this application.")
        return await _step_page(found, draft, found.load(draft), change=change)

    @post("/{step:str}", name="apply_step_submit", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def step_submit(
        self, request: SignedInRequest, step: FromPath[str]
    ) -> Template | Redirect:
        found = _step(step)
        user = request.user
        draft = await _draft_of(user)
        if draft is None:
            return Redirect("/your-application", status_code=SEE_OTHER)
        if step not in answers.steps_for(draft.kind):
            raise NotFoundException("That question is not part of this application.")
        values = await read_form(request)
        change = _text(values, "change") == "1"
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict, field=found.slug):
            if found.parse is None:
                filename, data = await evidence.read_upload(values.get(evidence.FIELD))
                await records.attach_evidence(
                    draft.id, user.id, filename, data, _settings(request).data_dir
                )
            else:
                await records.save(draft.id, user.id, found.parse(values))
            _, forward = _step_links(draft, step)
            return Redirect("/apply/check" if change else forward, status_code=SEE_OTHER)
        if isinstance(errors.refusal, Conflict):
            return Redirect("/your-application", status_code=SEE_OTHER)
        shown = {key: value for key, value in values.items() if isinstance(value, str)}
        return await _step_page(
            found, draft, shown, change=change, problems=errors.by_field, status=errors.status
        )


def _step(slug: str) -> Step:
    if slug not in STEPS:
        raise NotFoundException("There is no such question.")
    return STEPS[slug]


async def _begin(request: SignedInRequest, kind: ApplicationKind) -> Template | Redirect:
    user = request.user
    draft = await _draft_of(user)
    if draft is not None and draft.kind is kind:
        return Redirect(_resume_path(draft), status_code=SEE_OTHER)
    errors = FormErrors()
    with errors.catch(Conflict):
        record = await workflow.start(user.id, kind)
        return Redirect(_resume_path(record), status_code=SEE_OTHER)
    context = await _start_context(user, kind)
    template = "apply/start.html" if kind is ApplicationKind.initial else "apply/restoration.html"
    return _page(
        template,
        errors.status,
        draft=draft,
        resume=_resume_path(draft) if draft else "",
        **context,
        **problems_context(errors.by_field),
    )


def _check_page(
    record: ApplicationRecord, problems: Mapping[str, str], status: int = 200
) -> Template:
    return _page(
        "apply/check.html",
        status,
        record=record,
        sections=answer_sections(record, change=True, missing=answers.missing_answers(record)),
        steps=answers.steps_for(record.kind),
        caption=_caption(record),
        **problems_context(problems),
    )


class YourApplicationPages(Controller):
    """Where an applicant follows their application and answers the registrar's questions."""

    path = "/your-application"
    include_in_schema = False

    @get("/", name="your_application")
    async def page(self, request: SignedInRequest) -> Template:
        record = await records.latest_for(request.user.id)
        return _your_application(record, {})

    @post("/answer", name="your_application_respond")
    async def respond(self, request: SignedInRequest) -> Template | Redirect:
        user = request.user
        record = await records.latest_for(user.id)
        if record is None:
            return Redirect("/apply", status_code=SEE_OTHER)
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict, field="information_response"):
            await workflow.respond(record.id, user.id, _text(values, "information_response"))
            return Redirect("/your-application?answered=1", status_code=SEE_OTHER)
        if isinstance(errors.refusal, Conflict):
            return _your_application(record, errors.by_field, errors.status)
        return _your_application(record, errors.by_field, errors.status, values=values)


def _your_application(
    record: ApplicationRecord | None,
    problems: Mapping[str, str],
    status: int = 200,
    values: Mapping[str, Any] | None = None,
) -> Template:
    return _page(
        "apply/your_application.html",
        status,
        record=record,
        resume=_resume_path(record) if record and record.status is ApplicationStatus.draft else "",
        sections=answer_sections(record) if record else [],
        values=dict(values or {}),
        **problems_context(problems),
    )


# --- the registrar's side ------------------------------------------------------------------


class RegistrarApplicationPages(Controller):
    """The queue of applications awaiting a decision, one application, and the decisions."""

    path = "/registrar/applications"
    include_in_schema = False

    @get("/", name="registrar_applications")
    async def queue(
        self,
        status: Annotated[str, QueryParameter(max_length=40)] = "awaiting_decision",
        page: PageNumber = 1,
    ) -> Template:
        if status not in records.QUEUE_FILTERS:
            status = "awaiting_decision"
        found = await records.queue(status, page=page)
        return _page(
            "registrar/queue.html",
            queue=found,
            filter_name=status,
            status_label=records.QUEUE_FILTER_LABELS[status],
            status_items=records.status_items(status),
            previous_href=f"?status={status}&page={page - 1}" if page > 1 else None,
            next_href=f"?status={status}&page={page + 1}" if page < found.pages else None,
        )

    @get("/{application_id:int}", name="registrar_application")
    async def application(self, request: AnyRequest, application_id: FromPath[int]) -> Template:
        record = await records.get_submitted(application_id)
        return await _registrar_page(request, record, {})

    @post("/{application_id:int}/approve", name="registrar_application_approve")
    async def approve(
        self, request: AnyRequest, application_id: FromPath[int]
    ) -> Template | Redirect:
        calendar = renewals.RenewalCalendar.from_settings(_settings(request))
        return await _decide(
            request,
            application_id,
            "form",
            lambda registrar, values: workflow.approve(
                application_id,
                registrar_id=registrar,
                calendar=calendar,
                seen_version=_seen_version(values),
            ),
        )

    @post("/{application_id:int}/reject", name="registrar_application_reject")
    async def reject(
        self, request: AnyRequest, application_id: FromPath[int]
    ) -> Template | Redirect:
        return await _decide(
            request,
            application_id,
            "reason",
            lambda registrar, values: workflow.reject(
                application_id,
                registrar_id=registrar,
                reason=_text(values, "reason"),
                seen_version=_seen_version(values),
            ),
        )

    @post(
        "/{application_id:int}/request-information",
        name="registrar_application_request_information",
    )
    async def request_information(
        self, request: AnyRequest, application_id: FromPath[int]
    ) -> Template | Redirect:
        return await _decide(
            request,
            application_id,
            "question",
            lambda registrar, values: workflow.request_information(
                application_id,
                registrar_id=registrar,
                question=_text(values, "question"),
                seen_version=_seen_version(values),
            ),
        )

    @get("/{application_id:int}/evidence", name="registrar_application_evidence")
    async def evidence_file(self, request: AnyRequest, application_id: FromPath[int]) -> File:
        stored = await records.evidence_for_registrar(application_id)
        path = evidence.open_stored(_settings(request).data_dir, stored)
        return File(
            path=path,
            filename=stored.download_name,
            media_type=stored.content_type,
            content_disposition_type="attachment",
            headers={"Cache-Control": "no-store"},
        )


def _seen_version(values: Mapping[str, Any]) -> int:
    """The version of the application on the page the registrar decided on (0, which no
    application has, when the form lost it: the decision is then refused as out of date)."""
    text = str(values.get("version", ""))
    return int(text) if text.isdigit() and len(text) <= 9 else 0


async def _decide(
    request: SignedInRequest,
    application_id: int,
    field: str,
    decision: Callable[[int, dict[str, Any]], Any],
) -> Template | Redirect:
    user = request.user
    values = await read_form(request)
    errors = FormErrors()
    with errors.catch(InvalidInput, Conflict, field=field):
        await decision(user.id, values)
        return Redirect(
            f"/registrar/applications/{application_id}?decided=1", status_code=SEE_OTHER
        )
    record = await records.get(application_id)
    if isinstance(errors.refusal, Conflict):
        return await _registrar_page(request, record, errors.by_field, errors.status)
    problems = errors.by_field
    if errors.refusal and (field == "form" or set(problems) - {field}):
        # Not about what was typed here (a role retired since it was chosen, say).
        problems = {"form": errors.refusal.detail}
    return await _registrar_page(request, record, problems, errors.status, values=values)


async def _registrar_page(
    request: SignedInRequest,
    record: ApplicationRecord,
    problems: Mapping[str, str],
    status: int = 200,
    values: Mapping[str, Any] | None = None,
) -> Template:
    return _page(
        "registrar/application.html",
        status,
        record=record,
        sections=answer_sections(record),
        values=dict(values or {}),
        today=clock.now().date(),
        can_decide=record.status in records.AWAITING_DECISION,
        can_reject=record.status in workflow.MOVES[workflow.Move.reject].allowed_from,
        own=record.applicant_id == request.user.id,
        duplicates=await records.possible_duplicates(record),
        lookalike=fields.lookalike_warning(record.given_names, record.family_name),
        **problems_context(problems),
    )


# --- the answers, as summary lists -----------------------------------------------------------


def _day(value: date | None) -> str:
    return f"{value:%-d %B %Y}" if value else ""


def answer_sections(
    record: ApplicationRecord,
    *,
    change: bool = False,
    missing: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every answer, in sections of GOV.UK summary list rows. With ``change``, each row the
    applicant may still change gets a Change link, and an unanswered one a link to answer it."""
    steps = answers.steps_for(record.kind)
    missing = missing or {}
    declared = {True: "Yes", False: "No", None: ""}

    def row(key: str, value: str, step: str, hidden: str, *, html: bool = False) -> dict[str, Any]:
        can_change = change and step in steps
        if can_change and step in missing:
            link = Markup('<a class="govuk-link" href="/apply/{}">{}</a>').format(
                step, missing[step]
            )
            return {"key": {"text": key}, "value": {"html": link}}
        shown: dict[str, Any] = (
            {"html": value} if html and value else {"text": value or "Not given"}
        )
        result: dict[str, Any] = {"key": {"text": key}, "value": shown}
        if can_change:
            result["actions"] = {
                "items": [
                    {
                        "href": f"/apply/{step}?change=1",
                        "text": "Change",
                        "visuallyHiddenText": hidden,
                    }
                ]
            }
        return result

    address = multiline(f"{record.address}\n{record.postcode}")
    stored = record.evidence
    sections: list[dict[str, Any]] = [
        {
            "heading": "Personal details",
            "rows": [
                row("Name", record.name, "name", "name"),
                row("Date of birth", _day(record.date_of_birth), "date-of-birth", "date of birth"),
                row("Email address", record.email, "contact", "email address"),
                row("Telephone", record.phone, "contact", "telephone number"),
                row(
                    "Home address",
                    address if record.address else "",
                    "address",
                    "home address",
                    html=True,
                ),
            ],
        },
        {
            "heading": "Role and region",
            "rows": [
                row("Designated role", record.role_name, "role", "designated role"),
                row("Region", record.region_name, "region", "region"),
            ],
        },
        {
            "heading": "Qualification",
            "rows": [
                row("Qualification", record.qualification_name, "qualification", "qualification"),
                row(
                    "Date awarded",
                    _day(record.qualification_awarded_on),
                    "qualification",
                    "date awarded",
                ),
                row(
                    "Awarded by",
                    record.qualification_institution,
                    "qualification",
                    "institution that awarded it",
                ),
            ],
        },
    ]
    if record.kind is ApplicationKind.initial:
        sections[-1]["rows"].append(
            row(
                "Evidence",
                f"{stored.filename} ({stored.type_label}, {stored.size_label})" if stored else "",
                "evidence",
                "evidence",
            )
        )
    declarations = [
        row(
            "Convictions or cautions",
            declared[record.character_declaration],
            "character",
            "convictions or cautions",
        )
    ]
    if record.character_declaration:
        declarations.append(
            row(
                "Details of convictions or cautions",
                multiline(record.character_details),
                "character",
                "details of convictions or cautions",
                html=True,
            )
        )
    declarations.append(
        row("Health condition", declared[record.health_declaration], "health", "health condition")
    )
    if record.health_declaration:
        declarations.append(
            row(
                "Details of health condition",
                multiline(record.health_details),
                "health",
                "details of health condition",
                html=True,
            )
        )
    sections.append({"heading": "Declarations", "rows": declarations})
    return sections
