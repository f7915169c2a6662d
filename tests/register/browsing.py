"""Driving the register's pages as a browser does: fetch the form, post it with its CSRF token,
and read what the person sees (the status, the error summary, the text)."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from registry.accounts import users
from registry.accounts.auth import SESSION_COOKIE
from tests.accounts.helpers import sign_in


async def signed_in(client: httpx.AsyncClient, account: users.Account) -> httpx.AsyncClient:
    """``client`` as ``account`` in a browser (second factor done for staff)."""
    session = await sign_in(account)
    client.cookies.set(SESSION_COOKIE, session.session_token)
    client.headers["accept"] = "text/html,application/xhtml+xml"
    return client


def csrf_field(page: httpx.Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, f"no form with a CSRF token on {page.request.url} ({page.status_code})"
    return found.group(1)


async def post_form(
    client: httpx.AsyncClient,
    action: str,
    fields: dict[str, Any] | None = None,
    *,
    page: str | None = None,
    files: dict[str, Any] | None = None,
) -> httpx.Response:
    """Open ``page`` (by default ``action``) and post its form to ``action``, with the page's
    CSRF token and, as a browser would, the version of the record the page shows."""
    opened = await client.get(page or action)
    version = re.search(r'<input type="hidden" name="version" value="(\d+)">', opened.text)
    shown = {"version": version.group(1)} if version else {}
    return await client.post(
        action, data={**shown, **(fields or {}), "_csrf_token": csrf_field(opened)}, files=files
    )


def error_summary(page: httpx.Response) -> list[str]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', page.text, re.DOTALL)
    if block is None:
        return []
    return [
        html.unescape(" ".join(re.sub(r"<[^>]+>", " ", item).split()))
        for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.DOTALL)
    ]


def error_links(page: httpx.Response) -> list[str]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', page.text, re.DOTALL)
    return re.findall(r'href="([^"]+)"', block.group(1)) if block else []


def inline_error(page: httpx.Response, field: str) -> str:
    found = re.search(
        rf'<p id="{re.escape(field)}-error" class="govuk-error-message">(.*?)</p>',
        page.text,
        re.DOTALL,
    )
    assert found, f"no message beside {field}"
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()))


def visible_text(page: httpx.Response) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page.text).split()))
