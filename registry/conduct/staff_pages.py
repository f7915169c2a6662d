"""The fitness to practise staff workspace in the browser (caseworkers, case examiners,
adjudicators): the case list, a case's page (its summary, deadlines, concerns, timeline, and a
form for each move the workflow allows now), assignment, interim orders and their reviews, and
the live timeliness figures as charts with tables.

Thin, like the API beside it (:mod:`registry.conduct.api`): read the form, check it with the
API's own schemas, call the same services, show the case again. Each move's fields come from
its row of :data:`registry.conduct.workflow.MOVES` (what it needs, which sanctions it may
impose). A form carries the case's version: when someone else has moved the case since, the
page says so and shows the moves there are now, and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import File, Redirect, Template
from pydantic import BaseModel, Field, ValidationError

from registry.accounts.auth import SignedInRequest
from registry.accounts.roles import Role
from registry.conduct import concerns, interim_orders, service, timeliness, workflow
from registry.conduct.api import make_interim_order, mover, review_interim_order
from registry.conduct.interim_orders import INTERIM_STAGES, ReviewOutcome
from registry.conduct.schemas import (
    AssignmentBody,
    DisclosureBody,
    HearingBody,
    IdentificationBody,
    InterimOrderBody,
    InterimReviewBody,
    MoveBody,
    TermsBody,
    move_in,
)
from registry.conduct.tables import (
    INTERIM_LABELS,
    RELATIONSHIP_LABELS,
    SANCTION_LABELS,
    STAGE_LABELS,
    InterimKind,
    Relationship,
    Stage,
)
from registry.conduct.workflow import MOVES, Move, Mover, MoveRefused, Need
from registry.core import clock
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.register import evidence
from registry.web import dates
from registry.web.charts import bar_chart
from registry.web.forms import Form, FormErrors, form_page, read_form, read_query
from registry.web.inputs import LAST_PAGE, row_id
from registry.web.validation import body_labels, from_pydantic, label_for, say

SEE_OTHER: Literal[303] = 303
CASES = "/conduct/cases"
TIMELINESS = "/conduct/timeliness"
PANEL_SIZE = 3

# What each move's button says: the workflow's labels say what happened, these what to do.
ACTIONS: dict[Move, str] = {
    Move.start_triage: "Start triage",
    Move.close_outside_remit: "Close: outside our remit",
    Move.close_no_further_action: "Close: no further action",
    Move.open_investigation: "Open an investigation",
    Move.refer_to_case_examiners: "Refer to the case examiners",
    Move.no_case_to_answer: "Decide: no case to answer",
    Move.give_advice: "Give advice",
    Move.give_warning: "Give a warning",
    Move.propose_accepted_outcome: "Propose an accepted outcome",
    Move.refer_to_hearing: "Refer to a hearing",
    Move.outcome_not_accepted_in_time: "Send to a hearing: outcome not accepted in time",
    Move.schedule_hearing: "Schedule the hearing",
    Move.not_impaired: "Record the outcome: not impaired",
    Move.impaired: "Record the outcome: impaired, with a sanction",
    Move.sanction_takes_effect: "Put the sanction in force",
    Move.close_after_appeal_period: "Close after the appeal period",
    Move.begin_review: "Start a review of the sanction",
    Move.review_extend: "Review: extend the sanction",
    Move.review_vary: "Review: vary the sanction",
    Move.review_no_change: "Review: no change",
    Move.review_revoke: "Review: revoke the sanction",
    Move.close_case: "Close the case",
}
# What the timeline calls the events that are not moves.
EVENTS = {
    "concern_received": "Concern received",
    "concern_linked": "Another concern linked to this case",
    "linked": "Linked to the practitioner's open case",
    "identified": "Practitioner identified",
    "assigned": "Assigned",
    "response_received": "The practitioner's response received",
    "interim_order_made": "Interim order made",
    "interim_order_continue": "Interim order reviewed: continued",
    "interim_order_extend": "Interim order reviewed: extended",
    "interim_order_revoke": "Interim order reviewed: revoked",
}
BANNERS = {
    "moved": "The case has moved on",
    "assigned": "Assignment saved",
    "interim": "Interim order made: the register shows it now",
    "reviewed": "Interim order review recorded",
    "identified": "The practitioner is identified",
    "disclosed": "The document is disclosed: the practitioner can see and download it now",
}
# A service's name for a field, as the move form calls it (the form's own come as they are).
SERVICE_FIELDS = {"hearing_on": "hearing_on", "on": "hearing_on", "examiners": "examiner"}
REVIEW_OUTCOMES = {
    ReviewOutcome.continue_order: "Continue it as it is (next review in 6 months)",
    ReviewOutcome.extend: "Extend it",
    ReviewOutcome.revoke: "Revoke it (it comes off the register today)",
}


def event_label(event: str) -> str:
    if event in Move.__members__:
        return MOVES[Move(event)].label
    return EVENTS.get(event, event.replace("_", " ").capitalize())


# --- the case list ------------------------------------------------------------------------


class CaseFilter(Form):
    not_on_page: ClassVar[frozenset[str]] = frozenset({"page"})

    stage: Stage | None = Field(default=None, title="Stage")
    assigned: str = Field(default="", max_length=12, title="Assigned to")
    overdue: bool = Field(default=False, title="Overdue only")
    page: int = Field(default=1, ge=1, le=LAST_PAGE, title="Page")


@dataclass(frozen=True)
class Assigned:
    """Whose cases the list shows: anyone's, the reader's, nobody's, or one caseworker's."""

    user_id: int | None = None
    unassigned: bool = False


def _assigned(value: str, me: int, caseworkers: set[int]) -> Assigned | None:
    """The "assigned to" choice, or None when it is none of those offered."""
    if value in ("", "anyone"):
        return Assigned()
    if value == "me":
        return Assigned(me)
    if value == "none":
        return Assigned(unassigned=True)
    chosen = row_id(value)
    return Assigned(chosen) if chosen is not None and chosen in caseworkers else None


async def _case_list(request: SignedInRequest) -> Template:
    query = read_query(request, CaseFilter)
    chosen, errors = query.form, query.errors
    caseworkers = await service.staff_holding(Role.caseworker)
    context: dict[str, Any] = {
        "values": query.values,
        "caseworkers": caseworkers,
        "stage_labels": STAGE_LABELS,
        "stages": list(Stage),
        "is_caseworker": Role.caseworker in request.user.roles,
        "cases": [],
        "total": 0,
    }
    who = None
    if chosen is not None:
        who = _assigned(chosen.assigned, request.user.id, {each.id for each in caseworkers})
        if who is None:
            errors.add("assigned", "Choose whose cases to show from the list")
    if chosen is None or who is None:
        return form_page("conduct/staff/cases.html", errors, **context)
    found, total = await service.list_cases(
        stage=chosen.stage,
        assigned_to=who.user_id,
        unassigned=who.unassigned,
        overdue=True if chosen.overdue else None,
        page=chosen.page,
    )
    last_page = max(1, -(-total // service.PAGE_SIZE))
    filters = {key: value for key, value in query.values.items() if value and key != "page"}
    context.update(
        cases=found,
        total=total,
        page=chosen.page,
        last_page=last_page,
        previous_href=_href(filters, chosen.page - 1) if chosen.page > 1 else None,
        next_href=_href(filters, chosen.page + 1) if chosen.page < last_page else None,
        names={each.id: each.name for each in caseworkers},
    )
    return form_page("conduct/staff/cases.html", errors, **context)


def _href(filters: Mapping[str, str], page: int) -> str:
    return f"{CASES}?" + urlencode({**filters, "page": page})


# --- one case -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MoveForm:
    """A move the reader may make now, with the fields its row of the table needs."""

    move: Move
    action: str
    label: str
    needs: frozenset[Need]
    sanctions: list[dict[str, str]]

    @property
    def prefix(self) -> str:
        return f"{self.move.value}-"


def move_forms(allowed: list[Move]) -> list[MoveForm]:
    forms = []
    for move in allowed:
        transition = MOVES[move]
        forms.append(
            MoveForm(
                move=move,
                action=ACTIONS.get(move, transition.label),
                label=transition.label,
                needs=transition.needs,
                sanctions=[
                    {"value": kind.value, "text": label}
                    for kind, label in SANCTION_LABELS.items()
                    if kind in transition.sanctions
                ],
            )
        )
    return forms


async def _case_page(
    request: SignedInRequest,
    case_id: int,
    errors: FormErrors | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    posted: str = "",
    done: str = "",
) -> Template:
    """The case as the reader may act on it; after a refused form (``errors``), the case as it
    is now, with what they typed."""
    errors = errors or FormErrors()
    errors.date_fields = frozenset(f"{move.value}-hearing_on" for move in Move)
    by = mover(request)
    detail = await service.staff_case(case_id, by, record_read=not errors)
    case = detail.case
    today = clock.now().date()
    roles = request.user.roles
    documents = {document.file_id: document for document in detail.documents}
    open_order = next((o for o in detail.interim_orders if o.in_force(today)), None)
    caseworkers = await service.staff_holding(Role.caseworker)
    examiners = [
        each
        for each in await service.staff_holding(Role.case_examiner)
        if each.id != request.user.id
    ]
    return form_page(
        "conduct/staff/case.html",
        errors,
        detail=detail,
        case=case,
        today=today,
        values=values or {},
        posted=posted,
        banner=BANNERS.get(done, ""),
        forms=move_forms(detail.allowed_moves),
        documents=documents,
        event_label=event_label,
        stage_labels=STAGE_LABELS,
        sanction_labels=SANCTION_LABELS,
        relationship_labels={r.value: RELATIONSHIP_LABELS[r] for r in Relationship},
        caseworkers=caseworkers,
        assigned_name=next(
            (each.name for each in caseworkers if each.id == case.assigned_to),
            "A former caseworker" if case.assigned_to else "",
        ),
        examiners=examiners,
        can_assign=Role.caseworker in roles,
        can_disclose=Role.caseworker in roles and case.entry_id is not None,
        can_identify=(
            Role.caseworker in roles
            and (case.needs_identifying or case.entry_id is None)
            and case.stage in (Stage.received, Stage.triage)
        ),
        can_order=(
            Role.adjudicator in roles
            and case.stage in INTERIM_STAGES
            and case.entry_id is not None
            and open_order is None
        ),
        review_order=open_order if Role.adjudicator in roles else None,
        interim_kinds=[{"value": k.value, "text": INTERIM_LABELS[k]} for k in InterimKind],
        review_outcomes=[{"value": o.value, "text": text} for o, text in REVIEW_OUTCOMES.items()],
        interim_labels=INTERIM_LABELS,
    )


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name, "")
    return value if isinstance(value, str) else ""


def _texts(values: Mapping[str, Any], name: str) -> list[str]:
    given = values.get(name, [])
    return [
        each for each in ([given] if isinstance(given, str) else given) if isinstance(each, str)
    ]


def _checked(values: Mapping[str, Any], name: str) -> bool:
    return _text(values, name) == "yes"


def _check(
    model: type[BaseModel],
    raw: Mapping[str, Any],
    errors: FormErrors,
    prefix: str,
    rename: Mapping[str, str] | None = None,
) -> Any:
    """``raw`` checked by one of the API's schemas, each problem beside its field on the form
    (``prefix`` + the field's name, or the name ``rename`` gives it)."""
    try:
        return model.model_validate(dict(raw))
    except ValidationError as error:
        labels = body_labels(model)
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "form"
            message = say(from_pydantic(problem), label_for(name, labels))
            if name in ("version", "move", "form"):  # hidden: about the form as a whole
                errors.add("form", message)
                continue
            field = (rename or {}).get(name, name)
            errors.add(f"{prefix}{field}", message)
        return None


def _renamed(prefix: str, names: Mapping[str, str] | None = None) -> dict[str, str]:
    """The service's field names as the form prefixed with ``prefix`` calls them."""
    known = (
        "reason",
        "kind",
        "months",
        "conditions",
        "summary",
        "panel",
        "venue",
        "court_order_reference",
        "caseworker_id",
        "outcome",
        "registration_number",
        "documents",
    )
    renamed = {name: f"{prefix}{name}" for name in known}
    renamed.update({name: f"{prefix}{field}" for name, field in SERVICE_FIELDS.items()})
    renamed.update({name: f"{prefix}{field}" for name, field in (names or {}).items()})
    return renamed


def _version(values: Mapping[str, Any]) -> str | None:
    return _text(values, "version") or None


async def _explain(errors: FormErrors, values: Mapping[str, Any], case_id: int, by: Mover) -> None:
    """A refusal about the case's state, said for a page: a form older than the case says that
    someone else changed it; a move the case cannot make now says where it is. Both name, in
    the page's words, the moves the reader can make now (their forms are on the page)."""
    refusal = errors.refusal
    if not isinstance(refusal, Conflict):
        return
    case = await workflow.get_case(case_id)
    allowed = [ACTIONS.get(move, MOVES[move].label) for move in workflow.allowed_moves(case, by)]
    now = f"You can now: {'; '.join(allowed)}." if allowed else "You can make no move on it now."
    posted = _version(values)
    if posted is not None and posted != str(case.version):
        said = (
            "Someone else has changed this case since you opened it, so nothing was changed. "
            f"It is now at '{case.stage_label}'. {now}"
        )
    elif isinstance(refusal, MoveRefused):
        said = (
            f"Case {case.reference} is at '{case.stage_label}', so it cannot make that move. {now}"
        )
    else:
        return
    errors.by_field.pop("form", None)
    errors.add("form", said)


def _move_body(values: Mapping[str, Any], form: MoveForm, me: int, errors: FormErrors) -> Any:
    """The move's form as the API's MoveBody, or None with its problems in ``errors``."""
    prefix = form.prefix
    raw: dict[str, Any] = {
        "move": form.move.value,
        "version": _version(values),
        "reason": _text(values, f"{prefix}reason"),
    }
    if Need.examiners in form.needs:
        other = _text(values, f"{prefix}examiner")
        if not other:
            errors.add(f"{prefix}examiner", "Choose the other case examiner")
        raw["examiners"] = [me, other] if other else [me]
    body = _check(MoveBody, raw, errors, prefix, {"examiners": "examiner"})
    sanction = hearing = None
    if Need.terms in form.needs:
        months = _text(values, f"{prefix}months").strip()
        sanction = _check(
            TermsBody,
            {
                "kind": _text(values, f"{prefix}kind") or None,
                "months": months or None,
                "conditions": _text(values, f"{prefix}conditions"),
                "summary": _text(values, f"{prefix}summary"),
                "immediate": _checked(values, f"{prefix}immediate"),
            },
            errors,
            prefix,
        )
        if _text(values, f"{prefix}kind") == "" and f"{prefix}kind" in errors.by_field:
            errors.by_field[f"{prefix}kind"] = "Choose the sanction"
    if Need.hearing in form.needs:
        on = dates.read_date(values, f"{prefix}hearing_on", "The hearing date", "")
        if not on:
            errors.add(f"{prefix}hearing_on", "Enter the hearing date")
        elif isinstance(on, str):
            errors.add(f"{prefix}hearing_on", on)
        panel = [_text(values, f"{prefix}panel-{n}") for n in range(1, PANEL_SIZE + 1)]
        hearing = _check(
            HearingBody,
            {
                "on": on if not isinstance(on, str) else None,
                "panel": panel,
                "venue": _text(values, f"{prefix}venue"),
                "remote": _checked(values, f"{prefix}remote"),
                "private": _checked(values, f"{prefix}private"),
            },
            errors,
            prefix,
            {"on": "hearing_on"},
        )
    if errors or body is None:
        return None
    return body.model_copy(update={"sanction": sanction, "hearing": hearing})


@dataclass(frozen=True)
class CaseAction:
    """One of the case page's forms other than a move: the API's schema that checks it, the
    name its fields are prefixed with (and the page opens again after a refusal), the banner
    once it is done, and the service's names for fields the form calls otherwise."""

    model: type[BaseModel]
    form: str
    done: str
    names: Mapping[str, str] = field(default_factory=dict)
    texts: tuple[str, ...] = ()  # fields read as typed
    choices: tuple[str, ...] = ()  # a choice or a number: blank is none

    @property
    def prefix(self) -> str:
        return f"{self.form}-"

    def read(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The form's fields under the schema's names (the case's version apart)."""
        return {
            **{name: _text(values, self.prefix + name) for name in self.texts},
            **{name: _text(values, self.prefix + name).strip() or None for name in self.choices},
        }


ASSIGN = CaseAction(AssignmentBody, "assign", "assigned", {"caseworker_id": "caseworker"})
DISCLOSE = CaseAction(DisclosureBody, "disclose", "disclosed")
IDENTIFY = CaseAction(IdentificationBody, "identify", "identified", texts=("registration_number",))
INTERIM = CaseAction(
    InterimOrderBody,
    "interim",
    "interim",
    texts=("conditions", "reason", "court_order_reference"),
    choices=("kind", "months"),
)
REVIEW = CaseAction(
    InterimReviewBody,
    "review",
    "reviewed",
    texts=("reason", "court_order_reference"),
    choices=("outcome", "months"),
)


async def _act(
    request: SignedInRequest,
    case_id: int,
    action: CaseAction,
    act: Callable[[Any, Mover], Awaitable[int]],
    fields: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
) -> Template | Redirect:
    """The form posted to ``case_id`` (read by the action, or by ``fields``) checked by the
    API's schema and done by ``act`` as the reader saw the case, then the case ``act`` names
    with the action's banner; a refusal shows the case page again with what was typed and why,
    and changes nothing."""
    await workflow.get_case(case_id)  # not found before anything else
    values = await read_form(request)
    errors = FormErrors()
    raw = {**(fields or action.read)(values), "version": _version(values)}
    body = _check(action.model, raw, errors, action.prefix, action.names)
    if body is not None:
        by = mover(request)
        with errors.catch(
            InvalidInput, Conflict, PermissionDenied, rename=_renamed(action.prefix, action.names)
        ):
            shown = await act(body, by)
            return Redirect(f"{CASES}/{shown}?done={action.done}", status_code=SEE_OTHER)
        await _explain(errors, values, case_id, by)
    return await _case_page(request, case_id, errors, values, posted=action.form)


class CasePages(Controller):
    path = CASES
    include_in_schema = False

    @get("/", name="conduct_staff_cases")
    async def cases(self, request: SignedInRequest) -> Template:
        return await _case_list(request)

    @get("/{case_id:int}", name="conduct_staff_case")
    async def case(self, request: SignedInRequest, case_id: FromPath[int]) -> Template:
        return await _case_page(request, case_id, done=_text(request.query_params, "done"))

    @post("/{case_id:int}/moves", name="conduct_staff_case_move")
    async def move(self, request: SignedInRequest, case_id: FromPath[int]) -> Template | Redirect:
        await workflow.get_case(case_id)  # not found before anything else
        values = await read_form(request)
        errors = FormErrors()
        chosen = _text(values, "move")
        if chosen not in Move.__members__:
            errors.add("form", "Choose a move the case can make")
            return await _case_page(request, case_id, errors, values)
        [form] = move_forms([Move(chosen)])
        body = _move_body(values, form, request.user.id, errors)
        if body is not None:
            with errors.catch(
                InvalidInput, Conflict, PermissionDenied, rename=_renamed(form.prefix)
            ):
                await workflow.perform(
                    case_id, body.move, by=mover(request), version=body.version, data=move_in(body)
                )
                return Redirect(f"{CASES}/{case_id}?done=moved", status_code=SEE_OTHER)
            await _explain(errors, values, case_id, mover(request))
        return await _case_page(request, case_id, errors, values, posted=chosen)

    @post("/{case_id:int}/assignment", name="conduct_staff_case_assign")
    async def assign(self, request: SignedInRequest, case_id: FromPath[int]) -> Template | Redirect:
        def fields(values: Mapping[str, Any]) -> dict[str, Any]:
            chosen = _text(values, "assign-caseworker")
            return {"caseworker_id": None if chosen in ("", "none") else chosen}

        async def act(body: AssignmentBody, by: Mover) -> int:
            await workflow.assign(case_id, body.caseworker_id, by=by, version=body.version)
            return case_id

        return await _act(request, case_id, ASSIGN, act, fields)

    @get("/{case_id:int}/documents/{document_id:int}", name="conduct_staff_case_document")
    async def document(
        self, request: SignedInRequest, case_id: FromPath[int], document_id: FromPath[int]
    ) -> File:
        return evidence.download(request, await service.staff_document(case_id, document_id))

    @post(
        "/{case_id:int}/documents/{document_id:int}/disclosure",
        name="conduct_staff_case_disclose",
    )
    async def disclose(
        self, request: SignedInRequest, case_id: FromPath[int], document_id: FromPath[int]
    ) -> Template | Redirect:
        async def act(body: DisclosureBody, by: Mover) -> int:
            await service.disclose_document(case_id, document_id, by=by, version=body.version)
            return case_id

        return await _act(request, case_id, DISCLOSE, act)

    @post("/{case_id:int}/identification", name="conduct_staff_case_identify")
    async def identify(
        self, request: SignedInRequest, case_id: FromPath[int]
    ) -> Template | Redirect:
        async def act(body: IdentificationBody, by: Mover) -> int:
            # The concerns may have joined the practitioner's open case: show that one.
            return await concerns.identify(
                case_id, body.registration_number, by=by, version=body.version
            )

        return await _act(request, case_id, IDENTIFY, act)

    @post("/{case_id:int}/interim-orders", name="conduct_staff_interim_order")
    async def interim_order(
        self, request: SignedInRequest, case_id: FromPath[int]
    ) -> Template | Redirect:
        async def act(body: InterimOrderBody, by: Mover) -> int:
            await make_interim_order(case_id, body, by)
            return case_id

        return await _act(request, case_id, INTERIM, act)

    @post(
        "/{case_id:int}/interim-orders/{order_id:int}/reviews",
        name="conduct_staff_interim_review",
    )
    async def interim_review(
        self, request: SignedInRequest, case_id: FromPath[int], order_id: FromPath[int]
    ) -> Template | Redirect:
        order = await interim_orders.get(order_id)
        if order.case_id != case_id:  # an order of another case, by a hand-made address
            raise NotFound(interim_orders.NOT_FOUND)

        async def act(body: InterimReviewBody, by: Mover) -> int:
            await review_interim_order(order_id, body, by)
            return case_id

        return await _act(request, case_id, REVIEW, act)


# --- timeliness -----------------------------------------------------------------------------


class TimelinessPages(Controller):
    path = TIMELINESS
    include_in_schema = False

    @get("/", name="conduct_staff_timeliness")
    async def figures(self) -> Template:
        found = await timeliness.figures()
        charts = []
        for measure, _, label in timeliness.MEASURES:
            rows = [figure for figure in found.quarters if figure.measure == measure]
            chart = bar_chart(
                f"chart-{measure}",
                f"{label}: weeks, per quarter",
                (
                    "Median and 90th percentile weeks per quarter: "
                    + "; ".join(
                        f"{row.quarter}, median {row.median_weeks}, 90th percentile "
                        f"{row.p90_weeks} ({row.cases} cases)"
                        for row in rows
                    )
                    if rows
                    else "No decisions yet."
                ),
                ["Median", "90th percentile"],
                [(row.quarter, [row.median_weeks, row.p90_weeks]) for row in rows],
            )
            charts.append({"measure": measure, "label": label, "rows": rows, "chart": chart})
        caseload = bar_chart(
            "chart-caseload",
            "Open cases by age",
            "Open cases by weeks since the concern was received: "
            + "; ".join(f"{band.label}, {band.open_cases}" for band in found.caseload),
            ["Open cases"],
            [(band.label, [band.open_cases]) for band in found.caseload],
        )
        return Template(
            "conduct/staff/timeliness.html",
            context={"found": found, "charts": charts, "caseload": caseload},
        )


STAFF_PAGES = [CasePages, TimelinessPages]
