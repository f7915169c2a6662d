"""Bad input, as a person sees it: plain English about the field, on pages and in the API alike,
never a validator's own wording."""

from __future__ import annotations

import httpx
import pytest

from registry.accounts.roles import Role
from registry.errors import Conflict, InvalidInput
from registry.web.forms import Form, FormErrors, validate
from registry.web.validation import Problem, from_msgspec, from_pydantic, label_for, say
from tests.accounts.helpers import user_signed_in_as
from tests.register.browsing import error_links, error_summary, inline_error

HTML = {"accept": "text/html"}
LONG_SEARCH = "a" * 101
VALIDATOR_WORDING = ("Expected `", "Input should be", "Invalid enum value", "String should")


def assert_plain(response: httpx.Response) -> None:
    for words in VALIDATOR_WORDING:
        assert words not in response.text, response.text


# --- the register search: page and API --------------------------------------------------------


async def test_a_search_too_long_shows_the_search_page_with_its_error(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/register", params={"q": LONG_SEARCH}, headers=HTML)

    assert page.status_code == 422
    assert "Search the register" in page.text
    assert error_summary(page) == ["Search terms must be 100 characters or fewer"]
    assert error_links(page) == ["#q"]
    assert inline_error(page, "q") == "Error: Search terms must be 100 characters or fewer"
    assert f'value="{LONG_SEARCH}"' in page.text  # what they typed, to correct
    assert "Check your answers" not in page.text
    assert_plain(page)


async def test_a_search_too_long_is_a_query_problem_in_the_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/register", params={"q": LONG_SEARCH})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["title"] == "Invalid query parameter"
    assert problem["type"] == "/problems/invalid-query-parameter"
    assert problem["detail"] == "Search terms must be 100 characters or fewer."
    assert problem["errors"] == [
        {
            "field": "q",
            "source": "query",
            "message": "Search terms must be 100 characters or fewer",
        }
    ]
    assert_plain(response)


@pytest.mark.parametrize(
    ("page_number", "message"),
    [
        ("0", "Page must be 1 or more"),
        ("two", "Page must be a whole number"),
        ("10001", "Page must be 10,000 or less"),
    ],
)
async def test_a_bad_page_number_is_named_on_the_page_and_in_the_api(
    client: httpx.AsyncClient, page_number: str, message: str
) -> None:
    page = await client.get("/register", params={"q": "smith", "page": page_number}, headers=HTML)
    assert page.status_code == 422
    assert error_summary(page) == [message]
    assert error_links(page) == []  # no page box to link to: the number came in a link
    assert 'value="smith"' in page.text
    assert_plain(page)

    response = await client.get("/api/v1/register", params={"page": page_number})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "page", "source": "query", "message": message}]
    assert_plain(response)


async def test_an_unknown_region_or_status_is_shown_beside_its_field(
    client: httpx.AsyncClient,
) -> None:
    region = await client.get("/register", params={"region": "atlantis"}, headers=HTML)
    assert region.status_code == 422
    assert inline_error(region, "region").startswith("Error: 'atlantis' is not a region code")

    status = await client.get("/register", params={"status": "struck_off"}, headers=HTML)
    assert status.status_code == 422
    assert inline_error(status, "status").startswith("Error: 'struck_off' is not a status")

    api = await client.get("/api/v1/register", params={"region": "atlantis"})
    assert api.json()["title"] == "Invalid query parameter"
    assert api.json()["errors"][0]["source"] == "query"


async def test_a_malformed_number_in_the_address_is_a_path_problem(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/register/PR1234564")

    assert response.status_code == 422
    problem = response.json()
    assert problem["title"] == "Invalid path parameter"
    assert problem["errors"][0]["field"] == "registration_number"
    assert problem["errors"][0]["source"] == "path"


async def test_a_page_that_reads_no_query_form_still_says_what_is_wrong_plainly(
    client: httpx.AsyncClient,
) -> None:
    admin = await user_signed_in_as(Role.admin)
    client.cookies.set("registry_session", admin.session_token)

    page = await client.get("/admin/users", params={"page": "two"}, headers=HTML)

    assert page.status_code == 422
    assert "There is a problem with the page address" in page.text
    assert error_summary(page) == ["Page must be a whole number"]
    assert_plain(page)


# --- addresses that name nothing ---------------------------------------------------------------


async def test_an_unknown_path_segment_is_a_not_found_page(client: httpx.AsyncClient) -> None:
    admin = await user_signed_in_as(Role.admin)
    client.cookies.set("registry_session", admin.session_token)

    page = await client.get("/admin/reference/widgets", headers=HTML)

    assert page.status_code == 404
    assert "Go to the start of the service" in page.text
    assert_plain(page)


async def test_an_unknown_id_in_an_api_address_is_resource_not_found(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/register/PR1234563")

    assert response.status_code == 404
    assert response.json()["title"] == "Resource not found"


# --- bodies ---------------------------------------------------------------------------------------


async def test_a_bad_json_field_is_a_body_problem_in_plain_english(
    client: httpx.AsyncClient,
) -> None:
    admin = await user_signed_in_as(Role.admin)

    response = await client.post(
        "/api/v1/admin/users",
        headers=admin.bearer(),
        json={"email": "sam@regulator.example", "display_name": "", "roles": ["root"]},
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["title"] == "Invalid request body"
    assert problem["errors"] == [
        {"field": "display_name", "source": "body", "message": "Enter display name"},
        {
            "field": "roles.0",
            "source": "body",
            "message": "Roles must be one of: practitioner, registrar, cpd_assessor, "
            "caseworker, case_examiner, adjudicator, employer, admin",
        },
    ]
    assert_plain(response)


async def test_a_field_the_body_does_not_take_is_named(client: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.employer)

    response = await client.post(
        "/api/v1/me/tokens", headers=signed_in.bearer(), json={"name": "x" * 81, "expires": 1}
    )

    assert response.status_code == 422
    assert [(e["field"], e["source"], e["message"]) for e in response.json()["errors"]] == [
        ("name", "body", "Name must be 80 characters or fewer"),
        ("expires", "body", "Expires is not something this accepts: leave it out"),
    ]


async def test_a_service_conflict_is_titled_conflict(client: httpx.AsyncClient) -> None:
    admin = await user_signed_in_as(Role.admin)
    body = {"email": "sam@regulator.example", "display_name": "Sam", "roles": ["registrar"]}
    await client.post("/api/v1/admin/users", headers=admin.bearer(), json=body)

    again = await client.post("/api/v1/admin/users", headers=admin.bearer(), json=body)

    assert again.status_code == 409
    assert again.json()["title"] == "Conflict"
    assert again.json()["errors"][0]["source"] == "body"


# --- the wording itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("Expected `str` of length <= 100", "Search terms must be 100 characters or fewer"),
        ("Expected `str` of length >= 1", "Enter search terms"),
        ("Expected `int` >= 1", "Search terms must be 1 or more"),
        ("Expected `int` <= 10000", "Search terms must be 10,000 or less"),
        ("Expected `int`, got `str`", "Search terms must be a whole number"),
        ("Expected `bool`, got `str`", "Search terms must be true or false"),
        ("Invalid enum value 'x'", "Search terms must be one of: a, b"),
    ],
)
def test_msgspec_wording_is_said_again_plainly(message: str, said: str) -> None:
    assert say(from_msgspec(message, ("a", "b")), label_for("q")) == said


def test_pydantic_wording_is_said_again_plainly() -> None:
    assert say(from_pydantic({"type": "missing"}), "Display name") == "Display name is required"
    assert (
        say(from_pydantic({"type": "greater_than_equal", "ctx": {"ge": 1}}), "Page")
        == "Page must be 1 or more"
    )
    assert (
        say(from_pydantic({"type": "value_error", "ctx": {"error": "Choose a role"}}), "Roles")
        == "Choose a role"
    )
    assert say(Problem("date"), "From date") == "From date must be a real date, like 2026-11-23"


def test_a_label_comes_from_the_name_unless_the_schema_gives_one() -> None:
    assert label_for("page_size") == "Page size"
    assert label_for("roles.0") == "Roles"
    assert label_for("q") == "Search terms"
    assert label_for("q", {"q": "Name or number"}) == "Name or number"


def test_a_form_field_is_named_by_its_title() -> None:
    from pydantic import Field

    class Filters(Form):
        page: int = Field(default=1, ge=1, title="Results page")

    form, errors = validate(Filters, {"page": "0"})

    assert form is None
    assert errors.by_field == {"page": "Results page must be 1 or more"}


def test_catch_records_a_refusal_beside_its_field_with_its_status() -> None:
    errors = FormErrors()
    with errors.catch(field="name"):
        raise InvalidInput("Enter a name")
    assert (errors.by_field, errors.status) == ({"name": "Enter a name"}, 422)

    conflict = FormErrors()
    with conflict.catch(Conflict):
        raise Conflict("Already decided")
    assert (conflict.by_field, conflict.status) == ({"form": "Already decided"}, 409)
    assert conflict.summary == [{"text": "Already decided"}]

    with pytest.raises(Conflict), FormErrors().catch():
        raise Conflict("not caught unless named")
