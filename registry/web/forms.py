"""HTML forms: read a posted form or a page's query, validate it with a schema, and report errors
the GOV.UK way.

Each error appears twice, as GOV.UK asks: in the error summary at the top (linking to the field)
and beside the field itself. The messages are plain English about the field: a validator's own
wording is said again by ``registry.web.validation``, and a service's refusal is shown as the
service worded it, beside the field it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar

from litestar import Request
from litestar.datastructures import UploadFile
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY
from pydantic import BaseModel, ConfigDict, ValidationError

from registry import text
from registry.errors import Conflict, InvalidInput, RegistryError
from registry.web.errors import status_for
from registry.web.validation import body_labels, from_pydantic, label_for, say

Model = TypeVar("Model", bound=BaseModel)


class Form(BaseModel):
    """A posted page form, or the query of a page. Defaults are validated too: a field left out
    of the post must get its "Enter ..." message, not slip through as an empty string."""

    model_config = ConfigDict(validate_default=True)

    # Fields with no input on the page (a page number, reached by a link): the error summary
    # names them without linking to a field that is not there.
    not_on_page: ClassVar[frozenset[str]] = frozenset()
    # Dates typed in a GOV.UK date input: the summary links to the day box.
    date_fields: ClassVar[frozenset[str]] = frozenset()


@dataclass
class FormErrors:
    """What is wrong with a form, by field, and the status to answer with while it is."""

    by_field: dict[str, str] = field(default_factory=dict)
    status: int = HTTP_422_UNPROCESSABLE_ENTITY
    not_on_page: frozenset[str] = frozenset()
    date_fields: frozenset[str] = frozenset()
    # The service's refusal, when that is where the errors came from.
    refusal: RegistryError | None = None

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, message)

    def refuse(
        self,
        error: RegistryError,
        default_field: str = "form",
        rename: Mapping[str, str] | None = None,
    ) -> None:
        """Record a service's refusal beside the field it names (``rename`` maps the service's
        name for a field to the page's); one about no field is about the whole form."""
        self.refusal = error
        self.status = status_for(error)
        # A refusal of several answers at once (applications.InvalidAnswers) lists each one. A
        # conflict that names no field is about the record's state, not what was typed.
        problems = getattr(error, "problems", None)
        if isinstance(error, Conflict) and not error.field:
            problems = {"form": error.detail}
        elif not isinstance(problems, Mapping) or not problems:
            problems = {error.field or default_field: error.detail}
        for name, message in problems.items():
            self.add((rename or {}).get(name, name), message)

    def catch(
        self,
        *kinds: type[RegistryError],
        field: str = "form",
        rename: Mapping[str, str] | None = None,
    ) -> Catching:
        """Run the service call in a ``with`` block; if it refuses (``InvalidInput`` unless
        other kinds are named), record why and carry on after the block, where the page is
        shown again with these errors."""
        return Catching(self, kinds or (InvalidInput,), field, rename)

    @property
    def summary(self) -> list[dict[str, str]]:
        return [
            {"text": message}
            if name == "form" or name in self.not_on_page
            else {
                "text": message,
                "href": f"#{name}-day" if name in self.date_fields else f"#{name}",
            }
            for name, message in self.by_field.items()
        ]

    @property
    def status_code(self) -> int:
        """The status of the page: 200 with nothing wrong, else the status of what went wrong."""
        return self.status if self else HTTP_200_OK

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def context(self) -> dict[str, Any]:
        return {"errors": self.summary, "field_errors": self.by_field}


@dataclass
class Catching:
    """The context manager of ``FormErrors.catch``. A class, not a generator, so the type
    checker knows the block may end early and the code after it is reached."""

    errors: FormErrors
    kinds: tuple[type[RegistryError], ...]
    field: str
    rename: Mapping[str, str] | None

    def __enter__(self) -> FormErrors:
        return self.errors

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool:
        if isinstance(error, self.kinds):
            self.errors.refuse(error, self.field, self.rename)
            return True
        return False


def form_page(template: str, errors: FormErrors, **context: Any) -> Template:
    """A page with a form, shown with what the person typed (in ``context``) and, when something
    is wrong, the error summary, each field's message and the status of the problem."""
    return Template(
        template, context={**context, **errors.context()}, status_code=errors.status_code
    )


async def read_form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The posted fields; a field given several times (checkboxes) becomes a list.

    A field holding a control character other than a line break or a tab is refused here, for
    every form, whether or not its page reads it through a schema: nobody types one, and the
    database cannot keep a NUL (one-line fields refuse line breaks in their schema)."""
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        if key == "_csrf_token":
            continue
        items = form.getall(key)
        for item in items:
            _refuse_control_characters(key, item)
        values[key] = items if len(items) > 1 else items[0]
    return values


def _refuse_control_characters(name: str, value: Any) -> None:
    # An uploaded file's content is judged by its own rules; its name is text like any other.
    typed = value.filename if isinstance(value, UploadFile) else value
    if isinstance(typed, str) and text.has_control_characters(typed, multiline=True):
        field = "form" if text.has_control_characters(name) else name
        raise InvalidInput(text.control_message(label_for(field)), field=field)


@dataclass
class QueryInput(Generic[Model]):
    """A page's query: the values as typed, to show again, and either the form or its errors."""

    values: dict[str, str]
    form: Model | None
    errors: FormErrors


def read_query(request: Request[Any, Any, Any], model: type[Model]) -> QueryInput[Model]:
    """Validate the query parameters ``model`` names. A page reads its query this way, rather
    than through Litestar's parameters, so a bad value shows that page again with its error
    beside the field, instead of an error page. A blank value is the field's default."""
    # A field may go by another name in the address (``from_date-day``): read it by that.
    names = [field.alias or name for name, field in model.model_fields.items()]
    values = {name: request.query_params.get(name, "") for name in names}
    form, errors = validate(model, {name: value for name, value in values.items() if value != ""})
    return QueryInput(values, form, errors)


def validate(model: type[Model], values: dict[str, Any]) -> tuple[Model | None, FormErrors]:
    errors = FormErrors(
        not_on_page=getattr(model, "not_on_page", frozenset()),
        date_fields=getattr(model, "date_fields", frozenset()),
    )
    try:
        return model.model_validate(values), errors
    except ValidationError as error:
        labels = body_labels(model)
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "form"
            errors.add(name, say(from_pydantic(problem), label_for(name, labels)))
        return None, errors


def errors_from(error: RegistryError, default_field: str = "form") -> FormErrors:
    errors = FormErrors()
    errors.refuse(error, default_field)
    return errors
