"""HTML forms: read a posted form, validate it with a schema, and report errors the GOV.UK way.

Each error appears twice, as GOV.UK asks: in the error summary at the top (linking to the field)
and beside the field itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from litestar import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from registry.errors import RegistryError

Model = TypeVar("Model", bound=BaseModel)


class Form(BaseModel):
    """A posted page form. Defaults are validated too: a field left out of the post must get
    its "Enter ..." message, not slip through as an empty string."""

    model_config = ConfigDict(validate_default=True)


@dataclass
class FormErrors:
    by_field: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, message)

    @property
    def summary(self) -> list[dict[str, str]]:
        return [{"text": message, "href": f"#{name}"} for name, message in self.by_field.items()]

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def context(self) -> dict[str, Any]:
        return {"errors": self.summary, "field_errors": self.by_field}


async def read_form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The posted fields; a field given several times (checkboxes) becomes a list."""
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        if key == "_csrf_token":
            continue
        items = form.getall(key)
        values[key] = items if len(items) > 1 else items[0]
    return values


def validate(model: type[Model], values: dict[str, Any]) -> tuple[Model | None, FormErrors]:
    errors = FormErrors()
    try:
        return model.model_validate(values), errors
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "form"
            message = problem.get("ctx", {}).get("error") or problem["msg"]
            errors.add(name, str(message).removeprefix("Value error, "))
        return None, errors


def errors_from(error: RegistryError, default_field: str = "form") -> FormErrors:
    errors = FormErrors()
    errors.add(error.field or default_field, error.detail)
    return errors
