"""What every client sees: health, readiness, request ids, errors, the API description."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar, get
from litestar.params import FromQuery
from litestar.testing import AsyncTestClient

from registry.accounts.access import PUBLIC
from registry.accounts.roles import Role
from registry.app import create_app
from registry.config import Settings
from registry.core.domain import Domain
from tests.accounts.helpers import user_signed_in_as
from tests.support import asgi_transport, client_with_domains, make_settings

HTML = {"accept": "text/html"}


async def test_health_answers_with_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) >= 8


async def test_a_callers_request_id_is_kept_and_a_malformed_one_replaced(
    client: httpx.AsyncClient,
) -> None:
    kept = await client.get("/health", headers={"x-request-id": "lb-7f3a9c21"})
    assert kept.headers["x-request-id"] == "lb-7f3a9c21"
    replaced = await client.get("/health", headers={"x-request-id": "<script>"})
    assert replaced.headers["x-request-id"] != "<script>"


async def test_ready_when_the_database_is_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_not_ready_until_the_database_is_migrated(tmp_path: Path) -> None:
    app = create_app(make_settings("sqlite", tmp_path))
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["migrations"] == "missing"
    assert "registry migrate" in body["reason"]


async def test_not_ready_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite", tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none", db_pool_size=1
    )
    app = create_app(settings)
    app.on_startup.clear()
    app.state.engine.start = _do_nothing  # the pool would refuse to open; readiness must say so
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def _do_nothing() -> None:
    return None


async def test_an_unknown_api_path_is_a_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == "/api/v1/no-such-thing"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_an_unknown_page_is_a_govuk_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Go to the start of the service" in response.text
    assert "govuk-template" in response.text


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/no-such-page", 404, "Page not found"),
        ("/register/PR1234563", 404, "Page not found"),  # a service's NotFound
        ("/audit", 401, "You need to sign in"),
    ],
)
async def test_error_pages_use_the_services_own_headings(
    client: httpx.AsyncClient, path: str, status: int, heading: str
) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == status
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in response.text
    api = await client.get("/api/v1/register/PR1234563")
    assert api.json()["title"] == "Resource not found"  # the API keeps its kinds of problem


async def test_a_page_someone_may_not_see_says_so(client: httpx.AsyncClient) -> None:
    practitioner = await user_signed_in_as(Role.practitioner)
    client.cookies.set("registry_session", practitioner.session_token)
    response = await client.get("/audit", headers=HTML)
    assert response.status_code == 403
    assert '<h1 class="govuk-heading-l">You cannot see this page</h1>' in response.text


async def test_a_form_sent_without_its_token_has_expired_not_forbidden(
    client: httpx.AsyncClient,
) -> None:
    base = str(client.base_url).rstrip("/")
    for referer, back in (
        (f"{base}/sign-in?next=%2Faudit", "/sign-in?next=%2Faudit"),
        ("https://elsewhere.example/phish", "/sign-in"),  # only ever a link to this service
    ):
        response = await client.post(
            "/sign-in", data={"email": "a@example.org"}, headers={**HTML, "referer": referer}
        )
        assert response.status_code == 403
        assert "This form has expired" in response.text
        assert "Forbidden" not in response.text
        assert f'href="{back}">Go back to the form and try again' in response.text


@get("/api/v1/_test/echo", sync_to_thread=False, name="test_echo")
def echo(page: FromQuery[int]) -> dict[str, int]:
    return {"page": page}


@get("/api/v1/_test/boom", sync_to_thread=False, name="test_boom")
def boom() -> None:
    raise RuntimeError("secret internals: password=hunter2")


# Two routes only these tests serve, opened to everyone.
PROBES = Domain(
    name="http_probes", pages=[echo, boom], access={"test_echo": PUBLIC, "test_boom": PUBLIC}
)


@pytest.fixture
async def probing(
    app: Litestar, client: httpx.AsyncClient, migrated: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_with_domains(app, migrated, PROBES) as http:
        yield http


async def test_bad_input_names_the_field_in_the_problem(probing: httpx.AsyncClient) -> None:
    response = await probing.get("/api/v1/_test/echo", params={"page": "two"})
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["title"] == "Invalid query parameter"
    assert body["errors"] == [
        {"field": "page", "source": "query", "message": "Page must be a whole number"}
    ]
    assert body["detail"] == "Page must be a whole number."


async def test_an_unexpected_failure_shows_no_stack_trace(probing: httpx.AsyncClient) -> None:
    response = await probing.get("/api/v1/_test/boom")
    assert response.status_code == 500
    body = response.json()
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert body["request_id"] in body["detail"]


async def test_the_api_is_described_in_openapi_3_1(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert {"/health", "/ready"} <= set(document["paths"])


async def test_the_interactive_api_page_uses_assets_served_here(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    assert "cdn." not in page.text
    assert "/assets/swagger-ui/swagger-ui-bundle.js" in page.text
    bundle = await client.get("/assets/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200


async def test_https_service_sends_strict_transport_security_everywhere(tmp_path: Path) -> None:
    secure = create_app(make_settings("sqlite", tmp_path, base_url="https://register.example"))
    plain = create_app(make_settings("sqlite", tmp_path, base_url="http://127.0.0.1:8000"))
    async with (
        httpx.AsyncClient(transport=asgi_transport(secure), base_url="https://t") as https,
        httpx.AsyncClient(transport=asgi_transport(plain), base_url="http://t") as http,
    ):
        for path in ("/health", "/", "/no-such-page", "/schema/openapi.json"):
            answered = await https.get(path, headers={"accept": "text/html"})
            assert answered.headers["strict-transport-security"].startswith("max-age="), path
            assert "strict-transport-security" not in (await http.get(path)).headers


async def test_the_api_page_cannot_be_framed(client: httpx.AsyncClient) -> None:
    page = await client.get("/schema")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
