"""Plain English for bad input: whatever the validator said, a person reads what is wrong with the
field, by its name, the GOV.UK way ("Search terms must be 100 characters or fewer").

Litestar checks query and path parameters with msgspec, and bodies and page forms are checked with
pydantic; each words its complaints its own way ("Expected `str` of length <= 100", "String should
have at most 100 characters"). Both are read here into one ``Problem`` and said again about the
field's label. A label comes from the parameter's or field's ``title`` when it has one, otherwise
from its name (``page_size`` is "Page size"). A validator's own message (a pydantic validator's
``ValueError``) is already written for people and is kept as it is.
"""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from litestar import Request
from litestar.exceptions import ValidationException
from litestar.params import ParameterKwarg
from litestar.typing import FieldDefinition
from pydantic import BaseModel

from registry import text

Source = Literal["query", "path", "body", "header", "cookie"]

# Names the service uses for the same thing everywhere, whose words are not in the name itself.
COMMON_LABELS: dict[str, str] = {"q": "Search terms"}


@dataclass(frozen=True)
class Problem:
    """What is wrong with one value, whichever validator found it."""

    kind: str
    limit: int | float | None = None
    options: tuple[str, ...] = ()
    own_words: str = ""


def _number(value: int | float | None) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value}"


def _items(count: int | float | None) -> str:
    return "item" if count == 1 else "items"


_SAYINGS: dict[str, Callable[[str, Problem], str]] = {
    "too_long": lambda label, p: f"{label} must be {_number(p.limit)} characters or fewer",
    "too_short": lambda label, p: f"{label} must be {_number(p.limit)} characters or more",
    "empty": lambda label, p: f"Enter {lower_first(label)}",
    "too_few": lambda label, p: f"{label} must have at least {_number(p.limit)} {_items(p.limit)}",
    "too_many": lambda label, p: f"{label} must have {_number(p.limit)} {_items(p.limit)} or fewer",
    "at_least": lambda label, p: f"{label} must be {_number(p.limit)} or more",
    "more_than": lambda label, p: f"{label} must be more than {_number(p.limit)}",
    "at_most": lambda label, p: f"{label} must be {_number(p.limit)} or less",
    "less_than": lambda label, p: f"{label} must be less than {_number(p.limit)}",
    "whole_number": lambda label, p: f"{label} must be a whole number",
    "number": lambda label, p: f"{label} must be a number",
    "one_of": lambda label, p: (
        f"{label} must be one of: {', '.join(p.options)}"
        if p.options
        else f"{label} is not one of the choices"
    ),
    "missing": lambda label, p: f"{label} is required",
    "text": lambda label, p: f"{label} must be text",
    "yes_no": lambda label, p: f"{label} must be true or false",
    "date": lambda label, p: f"{label} must be a real date, like 2026-11-23",
    "datetime": lambda label, p: f"{label} must be a date and time, like 2026-11-23T09:30:00Z",
    "list": lambda label, p: f"{label} must be a list",
    "object": lambda label, p: f"{label} must be an object with named fields",
    "unexpected": lambda label, p: f"{label} is not something this accepts: leave it out",
    "control_characters": lambda label, p: text.control_message(label),
    "direction_characters": lambda label, p: text.direction_message(label),
    "year_range": lambda label, p: f"{label} must be from the year {' to '.join(p.options)}",
    "own_words": lambda label, p: p.own_words,
}


def say(problem: Problem, label: str) -> str:
    """The problem in plain English, about the field called ``label``."""
    saying = _SAYINGS.get(problem.kind)
    return saying(label, problem) if saying else f"{label} is not in a form we can use"


def lower_first(label: str) -> str:
    """``Display name`` becomes ``display name``; an acronym (``CPD hours``) stays as it is."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def label_for(name: str, labels: Mapping[str, str] | None = None) -> str:
    """The field as a person calls it: ``roles.0`` is "Roles", ``page_size`` is "Page size"."""
    labels = labels or {}
    if name in labels:
        return labels[name]
    words = [part for part in name.split(".") if part and not part.isdigit()]
    field = words[-1] if words else name
    if field in labels:
        return labels[field]
    if field in COMMON_LABELS:
        return COMMON_LABELS[field]
    return field.replace("_", " ").strip().capitalize() or "This"


# --- pydantic: each error has a type and the constraint in its context ----------------------

_PYDANTIC_KINDS: dict[str, tuple[str, str]] = {
    # type: (kind, the context key holding the limit)
    "string_too_long": ("too_long", "max_length"),
    "string_too_short": ("too_short", "min_length"),
    "too_short": ("too_few", "min_length"),
    "too_long": ("too_many", "max_length"),
    "greater_than_equal": ("at_least", "ge"),
    "greater_than": ("more_than", "gt"),
    "less_than_equal": ("at_most", "le"),
    "less_than": ("less_than", "lt"),
}
_PYDANTIC_PLAIN: dict[str, str] = {
    "missing": "missing",
    "int_parsing": "whole_number",
    "int_type": "whole_number",
    "int_from_float": "whole_number",
    "float_parsing": "number",
    "float_type": "number",
    "bool_parsing": "yes_no",
    "bool_type": "yes_no",
    "string_type": "text",
    "date_parsing": "date",
    "date_type": "date",
    "date_from_datetime_parsing": "date",
    "date_from_datetime_inexact": "date",
    "datetime_parsing": "datetime",
    "datetime_type": "datetime",
    "datetime_from_date_parsing": "datetime",
    "list_type": "list",
    "model_type": "object",
    "model_attributes_type": "object",
    "dict_type": "object",
    "extra_forbidden": "unexpected",
    # registry.web.inputs' own kinds
    "control_characters": "control_characters",
    "direction_characters": "direction_characters",
}


def from_pydantic(error: Mapping[str, Any]) -> Problem:
    """Read one of pydantic's ``ValidationError.errors()``."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        words = str(context.get("error") or error.get("msg", ""))
        return Problem("own_words", own_words=words.removeprefix("Value error, "))
    if kind in _PYDANTIC_KINDS:
        said, key = _PYDANTIC_KINDS[kind]
        limit = context.get(key)
        if isinstance(error.get("input"), str):
            # A length checked after a validator of the text (``Annotated[Text, Field(...)]``)
            # comes as the generic kind, which counts items; text counts characters.
            said = {"too_many": "too_long", "too_few": "too_short"}.get(said, said)
        if said == "too_short" and limit == 1:
            return Problem("empty")
        return Problem(said, limit=limit if isinstance(limit, (int, float)) else None)
    if kind == "year_range":
        return Problem(kind, options=(str(context.get("earliest")), str(context.get("latest"))))
    if kind in ("enum", "literal_error"):
        expected = str(context.get("expected", ""))
        return Problem("one_of", options=tuple(re.findall(r"'([^']*)'", expected)))
    return Problem(_PYDANTIC_PLAIN.get(kind, "other"))


# --- msgspec: only the message, so it is read by its wording ---------------------------------

_MSGSPEC_LIMITS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Expected `str` of length <= (\d+)"), "too_long"),
    (re.compile(r"Expected `str` of length >= (\d+)"), "too_short"),
    (re.compile(r"Expected `array` of length <= (\d+)"), "too_many"),
    (re.compile(r"Expected `array` of length >= (\d+)"), "too_few"),
    (re.compile(r"Expected `[^`]*` >= (-?[\d.]+)"), "at_least"),
    (re.compile(r"Expected `[^`]*` > (-?[\d.]+)"), "more_than"),
    (re.compile(r"Expected `[^`]*` <= (-?[\d.]+)"), "at_most"),
    (re.compile(r"Expected `[^`]*` < (-?[\d.]+)"), "less_than"),
]
_MSGSPEC_PLAIN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"contains control characters"), "control_characters"),  # registry.web.inputs
    (re.compile(r"Invalid enum value|Expected `enum|Expected `literal"), "one_of"),
    (re.compile(r"[Mm]issing required"), "missing"),
    (re.compile(r"Expected `int"), "whole_number"),
    (re.compile(r"Expected `(?:float|number|decimal)"), "number"),
    (re.compile(r"Expected `bool"), "yes_no"),
    (re.compile(r"Expected `str"), "text"),
    (re.compile(r"Expected `array"), "list"),
    (re.compile(r"Expected `object"), "object"),
    (re.compile(r"Object contains unknown field"), "unexpected"),
    (re.compile(r"datetime", re.IGNORECASE), "datetime"),
    (re.compile(r"date", re.IGNORECASE), "date"),
]


def from_msgspec(message: str, choices: tuple[str, ...] = ()) -> Problem:
    """Read msgspec's (and Litestar's own) wording; ``choices`` are the values an enum allows."""
    for pattern, kind in _MSGSPEC_LIMITS:
        if found := pattern.search(message):
            limit = float(found.group(1))
            if kind == "too_short" and limit == 1:
                return Problem("empty")
            return Problem(kind, limit=int(limit) if limit.is_integer() else limit)
    for pattern, kind in _MSGSPEC_PLAIN:
        if pattern.search(message):
            return Problem(kind, options=choices if kind == "one_of" else ())
    return Problem("other")


def choices_of(annotation: Any) -> tuple[str, ...]:
    """The values an enum or ``Literal`` type allows, looking inside ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(str(member.value) for member in annotation)
    if get_origin(annotation) is Literal:
        return tuple(str(value) for value in get_args(annotation))
    if get_origin(annotation) in (Union, types.UnionType):
        for inner in get_args(annotation):
            if found := choices_of(inner):
                return found
    return ()


# --- a Litestar ValidationException, read for the API and for pages alike ------------------

# A handler may word a field's message itself: ``@get(..., opt={INPUT_MESSAGES: {"q": "..."}})``.
INPUT_MESSAGES = "input_messages"
_MISSING_PARAMETER = re.compile(r"Missing required (\w+) parameter '([^']+)'")


@dataclass(frozen=True)
class InputError:
    """One bad value: the name the client used, where it was, and what a person should read."""

    field: str
    source: Source | None
    message: str

    def as_json(self) -> dict[str, str | None]:
        return {"field": self.field, "source": self.source, "message": self.message}


def input_errors(request: Request[Any, Any, Any], exc: ValidationException) -> list[InputError]:
    """Every complaint of ``exc`` about the request, in plain English with its true source."""
    fields = _fields(request)
    own_words: Mapping[str, str] = request.route_handler.opt.get(INPUT_MESSAGES, {})
    structured = _pydantic_errors(exc)
    found: list[InputError] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, Mapping):
            continue
        key = str(item.get("key", ""))
        message = str(item.get("message", ""))
        source = _source(request, key, item.get("source"), fields)
        definition = fields.get("data" if source == "body" else key.split(".")[0])
        pydantic_error = _matching(structured, key, message)
        if pydantic_error is not None:
            problem = from_pydantic(pydantic_error)
        else:
            choices = choices_of(definition.annotation) if definition else ()
            problem = from_msgspec(message, choices)
        name = _client_name(key, definition)
        label = label_for(key, _labels(definition, source))
        found.append(InputError(name, source, own_words.get(name) or say(problem, label)))
    if not found and (missing := _MISSING_PARAMETER.search(str(exc.detail))):
        kind, name = missing.groups()
        message = own_words.get(name) or say(Problem("missing"), label_for(name))
        found.append(InputError(name, _known_source(kind), message))
    return found


def _fields(request: Request[Any, Any, Any]) -> dict[str, FieldDefinition]:
    try:
        return dict(request.route_handler.parsed_fn_signature.parameters)
    except (AttributeError, TypeError):  # a handler Litestar made itself, with no signature
        return {}


def _source(
    request: Request[Any, Any, Any],
    key: str,
    said: Any,
    fields: Mapping[str, FieldDefinition],
) -> Source | None:
    # Litestar names the source by an enum whose str() is "ParamType.QUERY", and names none for a
    # field of a pydantic body or a parameter read under another name (``?next=`` for
    # ``next_page``): each is put right here.
    top = key.split(".")[0]
    definition = fields.get(top)
    if said == "body" or top == "data" or (top not in fields and "data" in fields):
        return "body"
    if top in request.path_params:
        return "path"
    kwarg = definition.kwarg_definition if definition else None
    if isinstance(kwarg, ParameterKwarg):
        if kwarg.header:
            return "header"
        if kwarg.cookie:
            return "cookie"
    if top in request.query_params or (isinstance(kwarg, ParameterKwarg) and kwarg.query):
        return "query"
    return _known_source(getattr(said, "value", said))


def _known_source(said: Any) -> Source | None:
    for source in get_args(Source):
        if said == source:
            return source  # type: ignore[no-any-return]
    return None


def _client_name(key: str, definition: FieldDefinition | None) -> str:
    kwarg = definition.kwarg_definition if definition else None
    if isinstance(kwarg, ParameterKwarg) and kwarg.query and "." not in key:
        return kwarg.query
    return key


def _labels(definition: FieldDefinition | None, source: Source | None) -> dict[str, str]:
    if definition is None:
        return {}
    if source == "body":  # the definition of ``data``: the body's own model gives the labels
        return body_labels(definition.annotation)
    kwarg = definition.kwarg_definition
    title = getattr(kwarg, "title", None)
    return {definition.name: title} if isinstance(title, str) and title else {}


def body_labels(model: Any) -> dict[str, str]:
    """The ``title`` each field of a pydantic model gives itself, by field name."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return {}
    return {name: field.title for name, field in model.model_fields.items() if field.title}


def _pydantic_errors(exc: ValidationException) -> list[Mapping[str, Any]]:
    # Litestar keeps only pydantic's message; the error with its type and limits is the cause.
    errors = getattr(exc.__cause__, "errors", None)
    if not isinstance(errors, list):
        return []
    return [error for error in errors if isinstance(error, Mapping)]


def _matching(
    structured: list[Mapping[str, Any]], key: str, message: str
) -> Mapping[str, Any] | None:
    for error in structured:
        where = ".".join(str(part) for part in error.get("loc", ()))
        said = str(error.get("msg", "")).split(" - ", maxsplit=1)[0]
        if said == message and where.endswith(key):
            return error
    return None
