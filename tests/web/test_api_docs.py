"""The API description: a bearer-token scheme, carried by exactly the operations that need one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Controller, Litestar, get
from litestar.routes import HTTPRoute

from registry.accounts.access import PUBLIC, REGISTRAR, allows, route_key
from registry.accounts.roles import Role
from registry.app import create_app
from registry.core.domain import API_PREFIX, Domain, route_access
from registry.domains import DOMAINS
from registry.register import numbers
from tests.accounts.helpers import user_signed_in_as
from tests.register.helpers import put_on_register
from tests.support import make_settings

TOKEN: list[dict[str, list[str]]] = [{"apiToken": []}]


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    }


async def test_the_description_declares_the_bearer_token_scheme(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    scheme = document["components"]["securitySchemes"]["apiToken"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "prr_…"
    assert "Authorization: Bearer prr_…" in scheme["description"]


async def test_token_operations_carry_security_and_the_public_register_none(
    client: httpx.AsyncClient,
) -> None:
    described = operations((await client.get("/schema/openapi.json")).json())
    assert described[("GET", "/api/v1/me")]["security"] == TOKEN
    assert described[("POST", "/api/v1/me/tokens")]["security"] == TOKEN
    assert described[("GET", "/api/v1/audit")]["security"] == TOKEN
    assert "security" not in described[("GET", "/api/v1/register")]
    assert "security" not in described[("GET", "/api/v1/register/{registration_number}")]
    assert "security" not in described[("GET", "/health")]


async def test_every_api_operation_agrees_with_the_access_table(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    access = route_access(DOMAINS)
    described = operations((await client.get("/schema/openapi.json")).json())
    checked = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            public = allows(access[route_key(handler, route.path_format)], None)
            for method in handler.http_methods - {"HEAD", "OPTIONS"}:
                operation = described[(method, route.path_format)]
                assert operation.get("security") == (None if public else TOKEN), (
                    f"{method} {route.path_format}"
                )
                checked += 1
    assert checked > 5


class LibraryApi(Controller):
    path = "/library"

    @get("/books", name="api_library_books")
    async def books(self) -> list[str]:
        return ["Middlemarch"]

    @get("/loans", name="api_library_loans")
    async def loans(self) -> list[str]:
        return []


async def test_a_new_domains_operations_are_marked_from_its_access_rows(tmp_path: Path) -> None:
    library = Domain(
        name="library",
        api=[LibraryApi],
        access={"api_library_books": PUBLIC, "api_library_loans": REGISTRAR},
    )
    app = create_app(make_settings("sqlite", tmp_path), domains=(*DOMAINS, library))
    described = operations(app.openapi_schema.to_schema())
    assert "security" not in described[("GET", "/api/v1/library/books")]
    assert described[("GET", "/api/v1/library/loans")]["security"] == TOKEN


async def test_every_api_operation_documents_its_problem_answers(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) >= {"type", "title", "status", "detail", "instance"}
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "409", "413", "422", "429"):
                content = operation["responses"][status]["content"]
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)


async def test_a_problem_the_api_sends_has_the_documented_fields(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    fields = set(document["components"]["schemas"]["Problem"]["properties"])
    sent = await client.get("/api/v1/register", params={"q": "x" * 101})
    assert sent.headers["content-type"].startswith("application/problem+json")
    assert set(sent.json()) <= fields
    assert set(sent.json()["errors"][0]) == set(
        document["components"]["schemas"]["ProblemField"]["properties"]
    )


def parameters(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, parameter) for every path and query parameter of every operation."""
    for (method, path), operation in operations(document).items():
        for parameter in operation.get("parameters", []):
            if parameter["in"] in ("path", "query"):
                yield method, path, parameter


def is_registration_number(parameter: dict[str, Any]) -> bool:
    return "registration_number" in parameter["name"]


async def test_every_parameter_carries_the_limits_the_service_applies(
    client: httpx.AsyncClient,
) -> None:
    """Walks the whole description, so a new route's parameters are held to it too."""
    document = (await client.get("/schema/openapi.json")).json()
    integers = numbers_seen = 0
    for method, path, parameter in parameters(document):
        schema, where = parameter["schema"], f"{method} {path} {parameter['name']}"
        if schema.get("type") == "integer":
            assert schema.get("minimum") is not None, where
            assert schema.get("maximum") is not None, where
            integers += 1
        if is_registration_number(parameter):
            assert schema.get("pattern") == numbers.TYPED_PATTERN, where
            numbers_seen += 1
        if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
            assert schema.get("maxLength") is not None, where
    assert integers >= 8
    assert numbers_seen >= 1


def _just_outside(schema: dict[str, Any]) -> Iterator[str]:
    """Values one step beyond each limit the description states."""
    if schema.get("type") == "integer":
        yield str(int(schema["minimum"]) - 1)
        yield str(int(schema["maximum"]) + 1)
    if "maxLength" in schema:
        yield "a" * (int(schema["maxLength"]) + 1)
    if "pattern" in schema:
        yield "PR100001"  # one digit short


def _within(schema: dict[str, Any]) -> str:
    if schema.get("type") == "integer":
        return str(int(schema["minimum"]))
    return numbers.registration_number(100001) if "pattern" in schema else ""


async def test_a_value_just_outside_a_documented_limit_is_a_problem_not_a_crash(
    client: httpx.AsyncClient,
) -> None:
    """Sent as an administrator, whom every guard lets through, so each answer is about the
    value; each is a 4xx problem document."""
    document = (await client.get("/schema/openapi.json")).json()
    admin = await user_signed_in_as(Role.admin)
    sent = 0
    for method, path, parameter in parameters(document):
        item = document["paths"][path][method.lower()]
        for value in _just_outside(parameter["schema"]):
            address = path
            for other in item.get("parameters", []):
                if other["in"] == "path":
                    given = value if other is parameter else _within(other["schema"])
                    address = address.replace("{" + other["name"] + "}", given)
            query = {parameter["name"]: value} if parameter["in"] == "query" else {}
            answer = await client.request(
                method,
                address,
                params=query,
                headers=admin.bearer(),
                json={} if "requestBody" in item else None,
            )
            where = f"{method} {address} {query}"
            assert 400 <= answer.status_code < 500, (where, answer.status_code, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json"), where
            sent += 1
    assert sent >= 20


@pytest.mark.parametrize(
    ("described", "address"),
    [
        ("/api/v1/register/{registration_number}", "/api/v1/register/{number}"),
        ("/api/v1/register", "/api/v1/register?q={number}"),
    ],
)
async def test_a_register_answer_still_current_is_a_304_the_description_lists(
    client: httpx.AsyncClient, described: str, address: str
) -> None:
    entry = await put_on_register()
    url = address.format(number=entry.registration_number)
    etag = (await client.get(url)).headers["etag"]
    again = await client.get(url, headers={"if-none-match": etag})
    assert again.status_code == 304
    operation = (await client.get("/schema/openapi.json")).json()["paths"][described]["get"]
    assert "304" in operation["responses"]
    header = next(p for p in operation["parameters"] if p["in"] == "header")
    assert header["name"] == "If-None-Match"
