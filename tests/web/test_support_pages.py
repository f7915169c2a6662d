"""The footer's support pages: accessibility, privacy, cookies, contact and service status."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from registry.app import create_app
from tests.support import make_settings

HTML = {"accept": "text/html"}

SUPPORT_PAGES = {
    "/accessibility": "Accessibility statement for the probation practitioner register",
    "/privacy": "Privacy notice",
    "/cookies": "Cookies",
    "/contact": "Contact the register",
    "/service-status": "Service status",
}


async def test_the_footer_links_to_every_support_page(client: httpx.AsyncClient) -> None:
    page = (await client.get("/", headers=HTML)).text
    footer = page[page.index('<footer class="govuk-footer">') :]
    for path in [*SUPPORT_PAGES, "/schema"]:
        assert f'class="govuk-footer__link" href="{path}"' in footer
    assert 'href="/health"' not in footer  # the raw JSON is for load balancers, not people


@pytest.mark.parametrize(("path", "heading"), SUPPORT_PAGES.items())
async def test_each_support_page_is_open_to_anyone(
    client: httpx.AsyncClient, path: str, heading: str
) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in response.text


async def test_the_accessibility_statement_follows_the_model_statement(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/accessibility", headers=HTML)).text
    for heading in (
        "How accessible this service is",
        "Feedback and contact information",
        "Reporting accessibility problems with this service",
        "Enforcement procedure",
        "Technical information about this service's accessibility",
        "How we tested this service",
        "Preparation of this accessibility statement",
    ):
        assert f'<h2 class="govuk-heading-m">{heading}</h2>' in page
    assert "Web Content Accessibility Guidelines version 2.2</a> AA standard" in page
    assert "axe-core" in page
    assert "keyboard" in page
    assert "Equality and Human Rights Commission" in page
    assert "Equality Commission for Northern Ireland" in page


async def test_the_privacy_notice_says_what_is_public_what_is_private_and_why(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/privacy", headers=HTML)).text
    for private in ("date of birth", "home address", "declarations", "equality information"):
        assert private in page
    assert "registration number" in page
    assert "public task" in page
    assert "How long we keep it" in page
    assert "Information Commissioner's Office" in page
    assert "https://ico.org.uk/make-a-complaint/" in page


async def test_the_cookies_page_lists_the_cookies_the_service_sets(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/cookies", headers=HTML)
    page = response.text
    set_here = {cookie.split("=")[0] for cookie in response.headers.get_list("set-cookie")}
    assert set_here <= {"registry_csrf"}  # a visitor gets only the form protection cookie
    assert "<code>registry_session</code>" in page
    assert "<code>registry_csrf</code>" in page
    assert "We do not use cookies to measure how you use the service (analytics)" in page


async def test_the_contact_page_says_how_to_reach_the_register_and_raise_a_concern(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/contact", headers=HTML)).text
    assert 'href="mailto:register@probation-register.example"' in page
    assert "Monday to Friday, 9am to 5pm" in page
    assert "Raise a concern about a practitioner" in page
    assert "Report a problem with this service" in page


async def test_the_service_status_page_says_in_words_that_all_is_working(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/service-status", headers=HTML)).text
    assert "is working normally." in page
    assert page.count("govuk-tag--green") == 3
    assert "govuk-tag--red" not in page


async def test_the_service_status_page_says_when_the_database_is_down(tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite", tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none", db_pool_size=1
    )
    app = create_app(settings)
    app.on_startup.clear()
    app.state.engine.start = _do_nothing  # the pool would refuse to open; the page must say so
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/service-status", headers=HTML)
        ready = await client.get("/ready")
    assert response.status_code == 200
    assert "is not working at the moment." in response.text
    assert "Not working" in response.text
    assert ready.status_code == 503  # the load balancers' answer is unchanged


async def test_the_service_status_page_says_when_the_database_is_not_migrated(
    tmp_path: Path,
) -> None:
    app = create_app(make_settings("sqlite", tmp_path))
    async with AsyncTestClient(app=app) as client:
        page = (await client.get("/service-status", headers=HTML)).text
    assert "is not working at the moment." in page
    assert "Being updated" in page
    assert "registry migrate" not in page  # advice for operators stays in /ready


async def _do_nothing() -> None:
    return None
