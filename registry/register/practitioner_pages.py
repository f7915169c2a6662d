"""A practitioner's own registration: what the register says, renewing, and leaving it.

Every page works on the signed-in practitioner's own entry, found from their account; no
address names an entry, so nobody can reach someone else's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from registry.accounts.auth import SignedInRequest
from registry.config import Settings
from registry.core import clock
from registry.errors import Conflict, InvalidInput
from registry.register import renewals, service
from registry.register.application_pages import problems_context
from registry.register.applications import eligibility, records
from registry.register.applications.answers import InvalidAnswers
from registry.register.renewals import Declarations, RenewalCalendar
from registry.register.service import Entry, EntryMove
from registry.register.tables import EntryState
from registry.web.forms import FormErrors, read_form

AnyRequest = Request[Any, Any, Any]
SEE_OTHER: Literal[303] = 303
MAX_REASON = 2000


def _calendar(request: AnyRequest) -> RenewalCalendar:
    settings: Settings = request.app.state.settings
    return RenewalCalendar.from_settings(settings)


def _page(template: str, status: int = 200, **context: Any) -> Template:
    return Template(f"register/practitioner/{template}", context=context, status_code=status)


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name, "")
    return value if isinstance(value, str) else ""


def read_declarations(values: Mapping[str, Any]) -> Declarations:
    """The renewal declarations posted, or every problem with them at once."""
    problems: dict[str, str] = {}
    answers: dict[str, bool] = {}
    for topic, question in (
        ("character", "Select yes if you have a conviction or caution to declare"),
        ("health", "Select yes if you have a health condition to declare"),
    ):
        answer = _text(values, f"{topic}_declaration")
        if answer not in ("yes", "no"):
            problems[f"{topic}_declaration"] = question
            continue
        answers[topic] = answer == "yes"
        details = _text(values, f"{topic}_details").strip()
        try:  # the renewal's own rule for details, applied to each topic in turn
            Declarations(character=answers[topic], character_details=details).check()
        except InvalidInput as error:
            problems[f"{topic}_details"] = error.detail
    if problems:
        raise InvalidAnswers(problems)
    return Declarations(
        character=answers["character"],
        character_details=_text(values, "character_details").strip()
        if answers["character"]
        else "",
        health=answers["health"],
        health_details=_text(values, "health_details").strip() if answers["health"] else "",
    )


class YourRegistrationPages(Controller):
    path = "/your-registration"
    include_in_schema = False

    @get("/", name="your_registration")
    async def page(self, request: SignedInRequest) -> Template:
        user = request.user
        entry = await renewals.practitioner_entry(user.id)
        today = clock.now().date()
        return _page(
            "your_registration.html",
            entry=entry,
            renewal=await renewals.renewal_state(entry, _calendar(request), today)
            if entry
            else None,
            application=await records.latest_for(user.id),
            restorable=entry is not None and entry.state in eligibility.RESTORABLE,
            on_register=entry is not None and entry.state is EntryState.registered,
        )

    @get("/renew", name="renew_registration")
    async def renew_page(self, request: AnyRequest) -> Template | Redirect:
        entry = await renewals.practitioner_entry(request.user.id)
        if entry is None:
            return Redirect("/your-registration", status_code=SEE_OTHER)
        state = await renewals.renewal_state(entry, _calendar(request), clock.now().date())
        if state.missing:  # what another domain needs first (CPD): say exactly what
            return _page("renew_blocked.html", entry=entry, renewal=state)
        if not state.can_renew:
            return Redirect("/your-registration", status_code=SEE_OTHER)
        return _page("renew.html", entry=entry, values={}, **problems_context({}))

    @post("/renew", name="renew_registration_submit")
    async def renew_submit(self, request: SignedInRequest) -> Template | Redirect:
        user = request.user
        entry = await renewals.practitioner_entry(user.id)
        if entry is None:
            return Redirect("/your-registration", status_code=SEE_OTHER)
        values = await read_form(request)
        action = _text(values, "action") or "check"
        if action == "change":
            return _page("renew.html", entry=entry, values=values, **problems_context({}))
        errors = FormErrors()
        with errors.catch():
            declarations = read_declarations(values)
        if errors:
            return _page(
                "renew.html",
                errors.status,
                entry=entry,
                values=values,
                **problems_context(errors.by_field),
            )
        if action != "confirm":
            return _check_page(entry, declarations, {})
        with errors.catch(Conflict):
            await renewals.renew(
                entry.id, declarations, calendar=_calendar(request), by_user_id=user.id
            )
            return Redirect("/your-registration/renewed", status_code=SEE_OTHER)
        return _check_page(entry, declarations, errors.by_field, errors.status)

    @get("/renewed", name="renewal_done")
    async def renewed(self, request: SignedInRequest) -> Template | Redirect:
        entry = await renewals.practitioner_entry(request.user.id)
        if entry is None:
            return Redirect("/your-registration", status_code=SEE_OTHER)
        return _page("renewed.html", entry=entry)

    @get("/leave", name="leave_register")
    async def leave_page(self, request: SignedInRequest) -> Template | Redirect:
        entry = await renewals.practitioner_entry(request.user.id)
        if entry is None or not service.can_move(entry.state, EntryMove.voluntary_removal):
            return Redirect("/your-registration", status_code=SEE_OTHER)
        return _page("leave.html", entry=entry, values={}, **problems_context({}))

    @post("/leave", name="leave_register_submit")
    async def leave_submit(self, request: SignedInRequest) -> Template | Redirect:
        entry = await renewals.practitioner_entry(request.user.id)
        if entry is None:
            return Redirect("/your-registration", status_code=SEE_OTHER)
        values = await read_form(request)
        reason = _text(values, "reason").strip()
        problems: dict[str, str] = {}
        if not reason:
            problems["reason"] = "Tell us why you are leaving the register"
        elif len(reason) > MAX_REASON:
            problems["reason"] = f"Your reason must be {MAX_REASON:,} characters or fewer"
        if _text(values, "confirm") != "yes":
            problems["confirm"] = "Confirm that you understand you must not practise once you leave"
        if problems:
            return _page(
                "leave.html",
                HTTP_422_UNPROCESSABLE_ENTITY,
                entry=entry,
                values=values,
                **problems_context(problems),
            )
        errors = FormErrors()
        with errors.catch(Conflict):
            await service.request_voluntary_removal(entry.id, reason=reason)
            return Redirect("/your-registration?left=1", status_code=SEE_OTHER)
        return _page(
            "leave.html",
            errors.status,
            entry=entry,
            values=values,
            **problems_context(errors.by_field),
        )


def _check_page(
    entry: Entry, declarations: Declarations, problems: Mapping[str, str], status: int = 200
) -> Template:
    return _page(
        "renew_check.html",
        status,
        entry=entry,
        declarations=declarations,
        **problems_context(problems),
    )
