"""Fitness to practise in the browser, for the public: raise a concern (no account needed),
an entry's published decisions, and the hearings of the next eight weeks.

"Raise a concern" follows the GOV.UK question pages pattern: who it is about, what happened,
who you are, then "Check your answers". Nobody has an account, so nothing is kept until the
concern is sent: each page carries the answers given so far in hidden fields, and the service
checks them all again when it is sent (its rules, its rate limit, the API's honeypot). Thin: the
rules live in :mod:`registry.conduct.concerns` and :mod:`registry.conduct.publication`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from registry.accounts.auth import VisitorRequest, client_address
from registry.conduct import concerns, decision_pdf, publication, references
from registry.conduct.concerns import ConcernIn
from registry.conduct.reference import CATEGORIES
from registry.conduct.tables import RELATIONSHIP_LABELS, SANCTION_LABELS, Relationship
from registry.config import Settings
from registry.core import reference
from registry.errors import InvalidInput, TooManyRequests
from registry.register import evidence
from registry.register.api import RegistrationNumber
from registry.web.dates import read_date
from registry.web.forms import FormErrors, read_form
from registry.web.inputs import RowId

AnyRequest = Request[Any, Any, Any]
STEPS = ("about", "what", "attachments", "you", "check")
# The answers each question page asks for; the others ride along in hidden fields.
FIELDS = {
    "about": ("about_number", "about_name", "about_workplace"),
    "what": (
        "what_happened",
        "happened_on-day",
        "happened_on-month",
        "happened_on-year",
        "happened_when",
        "categories",
    ),
    "you": (
        "relationship",
        "raiser_name",
        "raiser_email",
        "raiser_phone",
        "consent_to_share",
        "website",  # the honeypot, carried to the end
    ),
}
ATTACHED = concerns.ATTACHMENT_FIELD  # the tokens of files already uploaded: always carried
UPLOAD = "attachment_file"  # the attachments page's file input
ALL_FIELDS = tuple(name for names in FIELDS.values() for name in names)
STEP_OF = {name: step for step, names in FIELDS.items() for name in names}
STEP_OF.update({"happened_on": "what", ATTACHED: "attachments", UPLOAD: "attachments"})
CHOOSABLE = [r for r in Relationship if r is not Relationship.regulator]


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name, "")
    return value if isinstance(value, str) else ""


def _many(values: Mapping[str, Any], name: str) -> list[str]:
    given = values.get(name, [])
    chosen = [given] if isinstance(given, str) else list(given)
    return [each for each in chosen if isinstance(each, str) and each]


@dataclass
class Answers:
    """What the person has answered so far (as typed)."""

    values: dict[str, Any]

    @classmethod
    def read(cls, posted: Mapping[str, Any]) -> Answers:
        kept: dict[str, Any] = {name: _text(posted, name) for name in ALL_FIELDS}
        kept["categories"] = _many(posted, "categories")
        kept[ATTACHED] = list(dict.fromkeys(_many(posted, ATTACHED)))
        return cls(kept)

    def hidden(self, except_step: str) -> list[tuple[str, str]]:
        """The answers to carry in hidden fields on ``except_step``'s page."""
        shown = FIELDS.get(except_step, ())
        pairs: list[tuple[str, str]] = []
        for name in ALL_FIELDS:
            if name in shown:
                continue
            if name == "categories":
                pairs.extend(("categories", code) for code in self.values["categories"])
            elif self.values[name]:
                pairs.append((name, self.values[name]))
        pairs.extend((ATTACHED, token) for token in self.values[ATTACHED])
        return pairs

    def happened_on(self, errors: FormErrors) -> date | None:
        """The date it happened (it may be left out), or None with the error added."""
        read = read_date(self.values, "happened_on", "The date it happened", "")
        if isinstance(read, date):
            return read
        if read:
            errors.add("happened_on", read)
        return None

    def concern(self, happened_on: date | None, attached: list[concerns.Attachment]) -> ConcernIn:
        return ConcernIn(
            what_happened=self.values["what_happened"],
            relationship=self.values["relationship"],
            categories=self.values["categories"],
            about_number=self.values["about_number"],
            about_name=self.values["about_name"],
            about_workplace=self.values["about_workplace"],
            happened_on=happened_on,
            happened_when=self.values["happened_when"],
            raiser_name=self.values["raiser_name"],
            raiser_email=self.values["raiser_email"],
            raiser_phone=self.values["raiser_phone"],
            consent_to_share=self.values["consent_to_share"] == "yes",
            attachments=[each.stored.id for each in attached],
        )


def _check_step(step: str, answers: Answers, errors: FormErrors) -> None:
    """What a question page needs before the next one: only that it is answered. Whether the
    answers are acceptable is the service's to say, on "Check your answers"."""
    values = answers.values
    if step == "about" and not (values["about_number"].strip() or values["about_name"].strip()):
        errors.add(
            "about_number",
            "Give the practitioner's registration number, or their name and where they work",
        )
    if step == "what":
        if not values["what_happened"].strip():
            errors.add("what_happened", "Describe what happened")
        answers.happened_on(errors)
        if not values["categories"]:
            errors.add("categories", "Choose at least one kind of concern")
    if step == "you" and values["relationship"] not in {r.value for r in CHOOSABLE}:
        errors.add("relationship", "Choose who you are to the practitioner")


async def _attached(
    request: AnyRequest, answers: Answers, errors: FormErrors
) -> list[concerns.Attachment]:
    """The files carried so far; one whose token does not check out (forged, or a day old) is
    dropped from the answers and the page says so."""
    found = []
    for token in answers.values[ATTACHED][: concerns.MAX_ATTACHMENTS]:
        with errors.catch(InvalidInput):
            found.append(await concerns.read_attachment(_secret_key(request), token))
    answers.values[ATTACHED] = [each.token for each in found]
    return found


def _secret_key(request: AnyRequest) -> str:
    settings: Settings = request.app.state.settings
    return settings.secret_key


async def _page(
    request: AnyRequest, step: str, answers: Answers, errors: FormErrors | None = None
) -> Template:
    errors = errors or FormErrors()
    if step == "what":
        errors.date_fields = frozenset({"happened_on"})
    attached = await _attached(request, answers, errors) if step in ("attachments", "check") else []
    items = [item for item in await reference.list_items(CATEGORIES) if item.active]
    names = {item.code: item.name for item in items}
    context = {
        "step": step,
        "values": answers.values,
        "hidden": answers.hidden(step),
        "attached": attached,
        "max_attachments": concerns.MAX_ATTACHMENTS,
        "max_upload_mb": evidence.MAX_BYTES // (1024 * 1024),
        "categories": [{"value": item.code, "text": item.name} for item in items],
        "chosen_categories": [names.get(code, code) for code in answers.values["categories"]],
        "relationships": [{"value": r.value, "text": RELATIONSHIP_LABELS[r]} for r in CHOOSABLE],
        "relationship_labels": {r.value: RELATIONSHIP_LABELS[r] for r in Relationship},
        **errors.context(),
    }
    if step == "check":  # an error found on sending links to the page that asked
        context["errors"] = [
            {"text": message, "href": f"#change-{STEP_OF.get(name, 'about')}"}
            for name, message in errors.by_field.items()
        ]
    return Template(f"conduct/concern_{step}.html", context=context, status_code=errors.status_code)


async def _attachments_step(
    request: VisitorRequest, posted: Mapping[str, Any], answers: Answers
) -> Template:
    """The attachments page: a file chosen is kept at once (its token joins the answers);
    "Remove" takes one off; "Continue" goes on. Nothing is attached to anything until the
    concern is sent."""
    errors = FormErrors()
    removed = _text(posted, "remove")
    if removed:
        answers.values[ATTACHED] = [t for t in answers.values[ATTACHED] if t != removed]
        return await _page(request, "attachments", answers)
    filename, data = await evidence.read_upload(posted.get(UPLOAD))
    if data is not None and (data or filename):
        if len(answers.values[ATTACHED]) >= concerns.MAX_ATTACHMENTS:
            errors.add(UPLOAD, f"You can attach up to {concerns.MAX_ATTACHMENTS} files")
            return await _page(request, "attachments", answers, errors)
        settings: Settings = request.app.state.settings
        signed_in = request.user
        with errors.catch(InvalidInput, TooManyRequests, rename={evidence.FIELD: UPLOAD}):
            attached = await concerns.upload_attachment(
                filename,
                data,
                settings.data_dir,
                settings.secret_key,
                uploaded_by=signed_in.id if signed_in else None,
                client_address=None if signed_in else client_address(request.scope),
            )
            answers.values[ATTACHED] = [*answers.values[ATTACHED], attached.token]
        if errors or _text(posted, "action") == "upload":
            return await _page(request, "attachments", answers, errors)
    elif _text(posted, "action") == "upload":
        errors.add(UPLOAD, concerns.ATTACHMENT_MISSING)
        return await _page(request, "attachments", answers, errors)
    return await _page(request, "you", answers)


class ConcernPages(Controller):
    path = "/raise-a-concern"
    include_in_schema = False

    @get("/", name="conduct_concern_start")
    async def start(self, request: AnyRequest) -> Template:
        return await _page(request, "about", Answers.read({}))

    # The attachments page posts a file: room for one at the limit and the answers around it.
    @post("/", name="conduct_concern_submit", request_max_body_size=evidence.UPLOAD_BODY_LIMIT)
    async def submit(self, request: VisitorRequest) -> Template:
        posted = await read_form(request)
        answers = Answers.read(posted)
        goto = _text(posted, "goto")
        if goto in STEPS:  # "Change" on "Check your answers": that page, as answered
            return await _page(request, goto, answers)
        step = _text(posted, "step")
        if step not in STEPS:
            step = "about"
        if step == "attachments":
            return await _attachments_step(request, posted, answers)
        if step != "check":
            errors = FormErrors()
            _check_step(step, answers, errors)
            if errors:
                return await _page(request, step, answers, errors)
            return await _page(request, STEPS[STEPS.index(step) + 1], answers)
        return await _send(request, answers)


async def _send(request: VisitorRequest, answers: Answers) -> Template:
    errors = FormErrors()
    happened_on = answers.happened_on(errors)
    attached = await _attached(request, answers, errors)
    if errors:
        return await _page(request, "check", answers, errors)
    if answers.values["website"]:  # a robot filled in the honeypot: answered as ever, not kept
        return _raised(references.new_reference())
    signed_in = request.user
    with errors.catch(InvalidInput, TooManyRequests):
        raised = await concerns.raise_concern(
            answers.concern(happened_on, attached),
            raised_by=signed_in.id if signed_in else None,
            client_address=None if signed_in else client_address(request.scope),
        )
        return _raised(raised.reference)
    return await _page(request, "check", answers, errors)


def _raised(reference_: str) -> Template:
    return Template("conduct/concern_raised.html", context={"reference": reference_})


class PublicationPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/register/{number:str}/decisions", name="conduct_decisions")
    async def decisions(self, number: RegistrationNumber) -> Template:
        found, published, interim = await publication.decisions(number)
        return Template(
            "conduct/decisions.html",
            context={
                "number": found,
                "decisions": published,
                "interim_orders": interim,
                "labels": SANCTION_LABELS,
            },
        )

    @get("/register/{number:str}/decisions/{decision_id:int}", name="conduct_decision")
    async def decision(self, number: RegistrationNumber, decision_id: RowId) -> Template:
        found = await publication.decision(number, decision_id)
        return Template(
            "conduct/decision.html",
            context={"number": number, "decision": found, "labels": SANCTION_LABELS},
        )

    @get("/register/{number:str}/decisions/{decision_id:int}/pdf", name="conduct_decision_pdf")
    async def decision_pdf(
        self, request: AnyRequest, number: RegistrationNumber, decision_id: RowId
    ) -> Response[bytes]:
        """The decision as a PDF, at this address for as long as it is published."""
        settings: Settings = request.app.state.settings
        facts = await publication.decision_document(number, decision_id, settings.base_url)
        return Response(
            decision_pdf.render_decision(facts),
            media_type="application/pdf",
            headers={
                "content-disposition": f'inline; filename="{decision_pdf.filename(facts)}"',
                # withdrawn when the sanction ends: a cache must ask again
                "cache-control": "no-cache",
            },
        )

    @get("/hearings", name="conduct_hearings")
    async def hearings(self) -> Template:
        return Template("conduct/hearings.html", context={"hearings": await publication.hearings()})
