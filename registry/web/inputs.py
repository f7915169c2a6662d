"""The edge: what every input must be before any handler or database sees it.

Text in a body or a form is checked by the types here (:data:`Text` for one line,
:data:`MultilineText` for an address or a declaration), which every schema uses, and by
``forms.read_form`` for every posted field. An address is checked once for every route by
:class:`AddressGuard`: a query value holding a control character is refused by name, and a path
naming a number no id column can hold (ids run from 1 to :data:`LARGEST_ID`) or holding a control
character names nothing, so it is not found. Page numbers stop at :data:`LAST_PAGE` and dates at
the years of :data:`YEARS`, so no offset or date arithmetic can overflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.middleware import ASGIMiddleware
from litestar.params import PathParameter, QueryParameter
from litestar.types import ASGIApp, Receive, Scope, Send
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from registry import text
from registry.errors import InvalidInput
from registry.web.validation import label_for

LARGEST_ID = 2_147_483_647  # PostgreSQL's integer, the type of every id column
LAST_PAGE = 100_000  # further than anyone pages by hand; a tool narrows its filters instead
YEARS = (1900, 2999)  # nothing the service holds or is asked about is dated outside these

# The kinds of problem these checks report, which registry.web.validation words for people.
CONTROL_CHARACTERS = "control_characters"
DIRECTION_CHARACTERS = "direction_characters"
YEAR_RANGE = "year_range"


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _typed_by_a_person(*, multiline: bool) -> Any:
    def check(value: str) -> str:
        if text.has_control_characters(value, multiline=multiline):
            raise PydanticCustomError(CONTROL_CHARACTERS, "contains control characters")
        if text.has_direction_characters(value):
            raise PydanticCustomError(DIRECTION_CHARACTERS, "changes the direction of text")
        return value

    return check


# One line a person typed: spaces round it dropped; control and direction characters refused.
Text = Annotated[
    str, BeforeValidator(_stripped), AfterValidator(_typed_by_a_person(multiline=False))
]
# Several lines (an address, a declaration's details): line breaks and tabs are allowed too.
MultilineText = Annotated[
    str, BeforeValidator(_stripped), AfterValidator(_typed_by_a_person(multiline=True))
]


def in_years(value: date | datetime | None) -> bool:
    return value is None or YEARS[0] <= value.year <= YEARS[1]


def _within_years(value: date | None) -> date | None:
    if not in_years(value):
        earliest, latest = YEARS
        raise PydanticCustomError(
            YEAR_RANGE, "outside {earliest} to {latest}", {"earliest": earliest, "latest": latest}
        )
    return value


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


# A day a filter or a form asks about, blank for none, within :data:`YEARS`.
Day = Annotated[date | None, BeforeValidator(_blank_is_none), AfterValidator(_within_years)]


def page_field() -> Any:
    """The page of a list, as a field of a page's query form."""
    return Field(default=1, ge=1, le=LAST_PAGE, title="Page")


# The page of a list, as a query parameter.
PageNumber = Annotated[int, QueryParameter(ge=1, le=LAST_PAGE, title="Page")]


def whole_number(value: str, most: int) -> int | None:
    """``value`` as a number a form or a token carries (an id, a case's version, a time), or
    None when it is not one from 0 to ``most``. Only ASCII digits: ``str.isdigit`` also takes
    '\u00b2' and other digits ``int`` refuses, which reached ``int`` as a 500."""
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(most)):
        return None
    number = int(value)
    return number if number <= most else None


def row_id(value: str) -> int | None:
    """``value`` as a record's id or a case's version (1 to :data:`LARGEST_ID`), or None."""
    number = whole_number(value, LARGEST_ID)
    return number if number else None


# A record's id in an API address, bounded as the id columns are, so the API description says
# what the service takes; one beyond them names nothing and is not found.
RowId = Annotated[int, PathParameter(ge=1, le=LARGEST_ID)]


def years_message(label: str) -> str:
    return f"{label} must be from the year {YEARS[0]} to {YEARS[1]}"


def check_moment(name: str, value: datetime | None) -> None:
    """Refuse a date and time outside :data:`YEARS` (one a schema cannot check: Litestar's
    query parameters), so converting it to UTC cannot run off the calendar."""
    if not in_years(value):
        raise InvalidInput(years_message(label_for(name)), field=name)


# --- the address of every request ------------------------------------------------------------


class AddressGuard(ASGIMiddleware):
    """Checks every matched route's path and query before its handler reads them."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if any(_names_nothing(value) for value in scope["path_params"].values()):
            raise NotFoundException()
        if refused := list(_query_problems(scope["query_string"])):
            raise ValidationException(detail="Invalid query parameters", extra=refused)
        await next_app(scope, receive, send)


def _names_nothing(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return not 1 <= value <= LARGEST_ID
    return text.has_control_characters(str(value))


def _query_problems(query_string: bytes) -> Iterator[dict[str, str]]:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
    for name, value in pairs:
        if text.has_control_characters(name) or text.has_control_characters(value):
            # Worded as msgspec words a problem, so it is said again like any other; a name
            # that is itself hostile is not repeated back.
            key = "query" if text.has_control_characters(name) else name
            yield {"key": key, "message": "contains control characters", "source": "query"}
