"""A real server (``registry serve``) driven by Debian's Chromium through Playwright.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``. Without Chromium
the browser tests skip with a reason, unless ``REGISTRY_REQUIRE_BROWSER=1`` makes that a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from registry.config import Settings

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
SERVER_START_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REGISTRY_DATA_DIR": str(migrated.data_dir),
        "REGISTRY_DATABASE_URL": migrated.resolved_database_url,
        "REGISTRY_SECRET_KEY": migrated.secret_key,
        "REGISTRY_BASE_URL": base_url,
        "REGISTRY_ENVIRONMENT": "test",
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
