"""``registry demo``: seeds demo data a newcomer can sign in with, and can be run again."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from registry.accounts import sign_in, users
from registry.accounts.demo import DEMO_PASSWORD, DEMO_PEOPLE
from registry.accounts.roles import Role
from registry.config import Settings
from registry.register.demo_applications import DEMO_APPLICANTS
from tests.support import free_port, registry_command, registry_env, registry_executable


async def test_demo_prints_a_login_for_every_role_and_can_run_twice(
    client: httpx.AsyncClient, migrated: Settings
) -> None:
    status, output = await registry_command(migrated, "demo", "--no-serve")
    assert status == 0, output
    assert "The register is running at http://127.0.0.1:8000/" in output
    logins = {line.split()[-2] for line in output.splitlines() if line.endswith(DEMO_PASSWORD)}
    assert logins == {email for _, email, _ in DEMO_PEOPLE} | {a.email for a in DEMO_APPLICANTS}
    assert {role for role, _, _ in DEMO_PEOPLE} == set(Role)
    assert f"{len(DEMO_PEOPLE) + len(DEMO_APPLICANTS):>9,} users" in output
    assert "the key as text" in output  # how a newcomer gets past the staff second factor

    again, _ = await registry_command(migrated, "demo", "--no-serve")
    assert again == 0
    admin_email = DEMO_PEOPLE[0][1]
    account = await sign_in.authenticate(admin_email, DEMO_PASSWORD, "127.0.0.1")
    assert Role.admin in account.roles
    _, total = await users.list_accounts(page=1, page_size=50)
    assert total == len(DEMO_PEOPLE) + len(DEMO_APPLICANTS)  # applicants have logins too


async def test_demo_serves_with_the_worker_so_its_emails_carry_the_served_address(
    client: httpx.AsyncClient, migrated: Settings
) -> None:
    """``make run PORT=…`` must send its emails, with links to the port it serves."""
    seeded, _ = await registry_command(migrated, "demo", "--no-serve")
    assert seeded == 0
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = registry_env(migrated)
    env.pop("REGISTRY_BASE_URL", None)  # as on a newcomer's machine
    demo = await asyncio.create_subprocess_exec(
        registry_executable(),
        *("demo", "--port", str(port)),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # so the worker it starts can be found and stopped with it
    )
    try:
        await _until(lambda: _answers(f"{base_url}/ready"), "the demo to serve")
        async with httpx.AsyncClient(base_url=base_url) as http:
            await http.get("/forgotten-password")
            asked = await http.post(
                "/forgotten-password",
                data={"email": DEMO_PEOPLE[0][1]},
                headers={"x-csrftoken": http.cookies["registry_csrf"]},
            )
            assert asked.status_code == 200
        mail = migrated.data_dir / "mail"
        link = f"{base_url}/reset-password?token="
        # Behind, perhaps, the renewal reminders the scheduler has just queued for the demo.
        await _until(
            lambda: any(link in _text(eml) for eml in mail.glob("*ada.admin*.eml")),
            "the worker to write the reset email",
            seconds=180,
        )
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        output = (await asyncio.wait_for(demo.communicate(), 30))[0].decode()
    assert f"The register is running at {base_url}/" in output
    assert "authenticator app" in output


def _text(eml: Path) -> str:
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


async def _until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll ``condition`` (in a thread: it may block) until it holds, or fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {seconds:.0f} s")
        await asyncio.sleep(0.2)
