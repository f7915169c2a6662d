"""The HTML shell: GOV.UK Frontend patterns, without GOV.UK's reserved crown and typeface."""

from __future__ import annotations

import httpx

from registry.web.domain import STATIC_DIR

HTML = {"accept": "text/html"}


async def test_the_home_page_leads_to_the_register_search(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/", headers=HTML)
    assert response.status_code == 200
    page = response.text
    assert 'href="#main-content"' in page  # skip link
    assert "govuk-phase-banner" in page
    assert '<form action="/register" method="get"' in page
    assert "Probation practitioner register" in page


async def test_pages_carry_no_crown(client: httpx.AsyncClient) -> None:
    page = (await client.get("/", headers=HTML)).text
    assert "govuk-logo" not in page
    assert "govuk-footer__crown" not in page
    assert "govuk-icon-mask" not in page


async def test_the_stylesheet_is_built_without_gds_transport(
    client: httpx.AsyncClient,
) -> None:
    css = await client.get("/static/dist/registry.css")
    assert css.status_code == 200
    assert "govuk-" in css.text
    assert "GDS Transport" not in css.text
    assert (STATIC_DIR / "dist" / "registry.css").exists()


async def test_govuk_frontend_script_is_served_from_the_npm_package(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/assets/govuk/govuk-frontend.min.js")
    assert response.status_code == 200
    assert "initAll" in response.text


async def test_pages_have_a_content_security_policy_with_a_nonce(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/", headers=HTML)
    policy = response.headers["content-security-policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.text
    assert response.headers["x-frame-options"] == "DENY"
