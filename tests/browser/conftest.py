"""A real server (``registry serve``) driven by Debian's Chromium through Playwright.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``. Without Chromium
the browser tests skip with a reason, unless ``REGISTRY_REQUIRE_BROWSER=1`` makes that a failure.

The server is shared by every browser test of an engine, so each test makes its own people
(:class:`People`, writing straight to the server's database) with addresses no other test uses,
and asserts only about them.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from registry.accounts import password_links, second_factor, totp, users
from registry.accounts.roles import Role
from registry.audit import service as audit
from registry.audit.context import Actor, acting_as
from registry.config import Settings
from registry.db import bind_engine, bound_engine, create_engine
from tests.support import free_port

CHROMIUM = Path(os.environ.get("REGISTRY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous: on a loaded machine the import alone can take ten seconds or more.
SERVER_START_SECONDS = 90
# As long as the page fixture's action timeout: on a busy machine one argon2 hash can take seconds.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REGISTRY_REQUIRE_BROWSER") == "1":
        pytest.fail(f"REGISTRY_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(migrated: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service as production runs it, on a free loopback port, against the test database."""
    with _serving(migrated, tmp_path_factory, "test") as base_url:
        yield base_url


@pytest.fixture(scope="session")
def development_server(
    migrated: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A second server on the same database in development mode, where a webhook endpoint may be
    plain http on loopback: what a developer runs, and the only way a page can register the
    test's own receiver (outside development such an address is refused)."""
    with _serving(migrated, tmp_path_factory, "development") as base_url:
        yield base_url


@contextlib.contextmanager
def _serving(
    migrated: Settings, tmp_path_factory: pytest.TempPathFactory, environment: str
) -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REGISTRY_DATA_DIR": str(migrated.data_dir),
        "REGISTRY_DATABASE_URL": migrated.resolved_database_url,
        "REGISTRY_SECRET_KEY": migrated.secret_key,
        "REGISTRY_BASE_URL": base_url,
        "REGISTRY_ENVIRONMENT": environment,
    }
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "registry.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_ready(base_url, server, log_path)
            yield base_url
        finally:
            server.terminate()
            server.wait(timeout=15)


def _wait_until_ready(base_url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a starting process, not papering over a race
    raise RuntimeError(
        f"the server was not ready in {SERVER_START_SECONDS}s:\n{log_path.read_text()}"
    )


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_FLAGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    opened = await context.new_page()
    yield opened
    await context.close()


# --- people, made in the live server's database ---------------------------------------------

PASSWORD = "Lantern-harbour-violet-47"
TEST_ACTOR = Actor(id=None, label="system: browser tests")


def unique(word: str) -> str:
    """``word`` with a suffix no other test (or earlier run on the same database) has used."""
    return f"{word}-{uuid.uuid4().hex[:8]}"


@dataclass
class Authenticator:
    """The app on a person's phone: each code it gives is from a step the server has not seen.

    The server refuses a step it has already accepted (and any earlier one), so a second sign-in
    in the same 30 seconds needs the next step's code; it accepts one step either side of now.
    """

    secret: str
    last_step: int | None = None

    def code(self) -> str:
        now_step = int(time.time()) // totp.STEP_SECONDS
        step = now_step if self.last_step is None else max(now_step, self.last_step + 1)
        assert step <= now_step + totp.VALID_WINDOW, "no unused code: too many sign-ins at once"
        self.last_step = step
        return str(pyotp.TOTP(self.secret).at(step * totp.STEP_SECONDS))


@dataclass
class Person:
    id: int
    email: str
    name: str
    password: str = PASSWORD
    authenticator: Authenticator | None = None
    recovery_codes: list[str] = field(default_factory=list)


class People:
    """Accounts and reset links made with the service, in the live server's database."""

    def __init__(self, engine: Any, secret_key: str) -> None:
        self.engine = engine
        self.secret_key = secret_key

    @contextlib.contextmanager
    def bound(self) -> Iterator[None]:
        """Service calls in this block act on the live server's database."""
        with self._bound():
            yield

    @contextlib.contextmanager
    def _bound(self) -> Iterator[None]:
        # Other tests in the same run bind their own engine; leave theirs as it was.
        previous = bound_engine()
        bind_engine(self.engine)
        try:
            with acting_as(TEST_ACTOR):
                yield
        finally:
            bind_engine(previous)

    async def create(
        self,
        roles: Iterable[Role],
        *,
        name: str = "",
        password: str | None = PASSWORD,
        two_factor: bool = False,
    ) -> Person:
        """A new person; with ``two_factor`` their authenticator app is already set up."""
        name = name or unique("Test Person").replace("-", " ")
        email = f"{unique('person')}@regulator.example"
        with self._bound():
            account = await users.create_user(email, name, list(roles), password)
            person = Person(account.id, account.email, name, password or "")
            if two_factor:
                secret = await second_factor.begin_totp_enrolment(account.id, self.secret_key)
                person.authenticator = Authenticator(secret)
                person.recovery_codes = await second_factor.confirm_totp_enrolment(
                    account.id, 0, person.authenticator.code(), self.secret_key
                )
        return person

    async def reset_token(self, email: str) -> str:
        """A new reset link's token, as the email would carry it (the email itself is not read)."""
        with self._bound():
            token = await password_links.request_password_reset(email)
        assert token is not None, f"no active account for {email}"
        return token

    async def record_audit_entries(self, action: str, count: int) -> None:
        """``count`` audit entries for ``action``, about ``check 1`` to ``check <count>``."""
        with self._bound():
            for number in range(1, count + 1):
                await audit.record(action, "check", number, after={"number": number})


@pytest.fixture(scope="session")
async def people(migrated: Settings) -> AsyncIterator[People]:
    engine = create_engine(migrated)
    await engine.start()
    try:
        yield People(engine, migrated.secret_key)
    finally:
        await engine.stop()


async def sign_in(page: Page, person: Person) -> None:
    """Sign in as a person would, through the second step when they have one."""
    await page.goto("/sign-in")
    await page.get_by_label("Email address").fill(person.email)
    await page.get_by_label("Password", exact=True).fill(person.password)
    await page.get_by_role("button", name="Sign in").click()
    if person.authenticator is not None:
        await expect(page).to_have_url(re.compile(r"/sign-in/two-factor$"))
        await page.get_by_label("Enter your security code").fill(person.authenticator.code())
        await page.get_by_role("button", name="Continue").click()
    # Staff land on their account; a practitioner on what they came for (see signposts).
    await expect(page).not_to_have_url(re.compile(r"/sign-in"))
    await expect(page.locator(".govuk-service-navigation")).to_contain_text("Your account")


# --- what a person sees ---------------------------------------------------------------------


async def expect_problems(
    page: Page,
    problems: dict[str, str],
    *,
    inline: bool = True,
    date_fields: Iterable[str] = (),
) -> None:
    """The page says exactly ``problems`` (field id: message) the GOV.UK way.

    The title starts "Error:", the error summary lists each message as a link to its field (and
    has the focus, so a screen reader reads it first) and, with ``inline``, each field repeats
    its own message. A date's link goes to its day box.
    """
    dates = set(date_fields)
    await expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    await expect(summary.get_by_role("heading", level=2)).to_have_text("There is a problem")
    links = summary.get_by_role("link")
    await expect(links).to_have_text(list(problems.values()))
    await expect(summary).to_be_focused()
    for index, (field_id, message) in enumerate(problems.items()):
        target = f"{field_id}-day" if field_id in dates else field_id
        await expect(links.nth(index)).to_have_attribute("href", f"#{target}")
        await expect(page.locator(f"#{field_id}")).to_have_count(1)
        if inline:
            await expect(page.locator(f"#{field_id}-error")).to_have_text(f"Error: {message}")


async def expect_success(page: Page, message: str) -> None:
    banner = page.locator(".govuk-notification-banner--success")
    await expect(banner.get_by_role("heading", level=2)).to_have_text("Success")
    await expect(banner.locator(".govuk-notification-banner__heading")).to_have_text(message)


def summary_value(page: Page, key: str) -> Locator:
    """The value beside ``key`` in the page's summary list."""
    row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=re.compile(f"^\\s*{key}\\s*$"))
    )
    return row.locator(".govuk-summary-list__value")


# The innermost elements reaching past the window's right edge: what to mend on a wide page.
_WIDEST_ELEMENTS = """() => {
  const edge = document.documentElement.clientWidth;
  const over = [...document.body.querySelectorAll('*')].filter(
    (e) => e.getBoundingClientRect().right > edge + 0.5);
  return over.filter((e) => !over.some((o) => o !== e && e.contains(o)))
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}`
      + `.${[...e.classList].join('.')} (${Math.round(e.getBoundingClientRect().right)}px)`);
}"""


async def assert_reflows(page: Page) -> None:
    """At 320 CSS pixels wide (a phone, or 1280 at 400% zoom) nothing makes the page scroll
    sideways (WCAG 1.4.10); a wide table may scroll inside its own box."""
    size = page.viewport_size
    await page.set_viewport_size({"width": 320, "height": 640})
    try:
        widths = await page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if widths[0] > widths[1]:
            wide = await page.evaluate(_WIDEST_ELEMENTS)
            raise AssertionError(f"{page.url} is {widths[0]}px wide at 320px: {wide}")
    finally:
        if size is not None:
            await page.set_viewport_size(size)
