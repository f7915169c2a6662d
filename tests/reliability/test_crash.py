"""Crash consistency: the real server (``registry serve``) killed with SIGKILL in the middle of
concurrent writes, then started again, several times over, on both engines.

Each round drives five kinds of write over real HTTP at once, each touching several rows, the
audit trail and the outbox: API tokens made, staff invited, applications decided, registrations
renewed and accounts signed up. Once enough writes have been acknowledged (2xx or the page's
303), with more in flight, the server's whole process group is killed. Then, with the server
down: on SQLite ``PRAGMA integrity_check`` says ``ok``; ``registry audit verify`` says ok;
every acknowledged write is there; and no write is there in part (every rule below holds over
the whole database, for the writes whose answer never came back as much as the rest).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry.accounts import tokens
from registry.accounts.auth import SESSION_COOKIE
from registry.accounts.roles import Role
from registry.accounts.sign_in import start_session
from registry.accounts.tables import ApiToken, User
from registry.accounts.users import create_user
from registry.config import Settings
from registry.core import clock
from registry.db import bind_engine, create_engine, migrate
from registry.register.applications.records import ApplicationRecord
from registry.register.tables import Application, Renewal
from tests.accounts.helpers import sign_in
from tests.conftest import empty_tables
from tests.register.applying import registrar, submitted_application
from tests.register.helpers import put_on_register
from tests.support import (
    exempt_from_cpd,
    free_port,
    make_settings,
    registry_command,
    registry_env,
    registry_executable,
)

ROUNDS = 3
ACKS_PER_ROUND = 25  # the server is killed once this many writes have been acknowledged
DECISIONS_PER_ROUND = 8  # applications set aside for each round
RENEWALS_PER_ROUND = 6  # and entries due for renewal
SERVER_START_SECONDS = 30
ROUND_SECONDS = 60
PASSWORD = "Lantern-harbour-violet-47"
MOVES = {
    "approve": ({}, "approved"),
    "reject": ({"reason": "Not a recognised course"}, "rejected"),
    "request-information": ({"question": "Which modules?"}, "further_information_requested"),
}


# --- the database, opened by the test between rounds ------------------------------------------


@contextlib.asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[None]:
    """The test's own connection to the server's database, bound to every table."""
    engine = create_engine(settings)
    await engine.start()
    bind_engine(engine)
    try:
        yield
    finally:
        await engine.stop()


@pytest.fixture
async def database(engine_name: str, tmp_path: Path) -> Settings:
    """SQLite in a file of its own, or the PostgreSQL test database; migrated and emptied."""
    settings = make_settings(engine_name, tmp_path)
    engine = create_engine(settings)
    await engine.start()
    try:
        await migrate(engine)  # binds the engine it is given
        await empty_tables()
    finally:
        await engine.stop()
    return settings


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    process: asyncio.subprocess.Process
    base_url: str
    log: Path

    async def kill(self) -> None:
        """SIGKILL to granian and its workers at once, as a crash or the OOM killer would."""
        await self._signal(signal.SIGKILL)

    async def stop(self) -> None:
        await self._signal(signal.SIGTERM)

    async def _signal(self, sent: signal.Signals) -> None:
        if self.process.returncode is None:
            os.killpg(self.process.pid, sent)
        await asyncio.wait_for(self.process.wait(), 15)


async def start_server(settings: Settings, log_dir: Path, number: int) -> Server:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = registry_env(
        settings,
        {
            "REGISTRY_BASE_URL": base_url,
            # Sign-ups each come from their own address, through the test as a trusted proxy.
            "REGISTRY_TRUSTED_PROXIES": "127.0.0.1/32",
            # The window open all year, so renewals work whatever day the test runs.
            "REGISTRY_RENEWAL_OPENS": "01-01",
            "REGISTRY_RENEWAL_DEADLINE": "12-31",
        },
    )
    log = log_dir / f"server-{number}.log"
    with log.open("w") as output:
        process = await asyncio.create_subprocess_exec(
            registry_executable(),
            "serve",
            "--port",
            str(port),
            env=env,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the kill reaches every worker
        )
    server = Server(process, base_url, log)
    deadline = time.monotonic() + SERVER_START_SECONDS
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as probe:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"the server exited early:\n{log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if (await probe.get("/ready")).status_code == 200:
                    return server
            await asyncio.sleep(0.05)  # polling a starting process, not papering over a race
    await server.kill()
    raise RuntimeError(f"the server was not ready in {SERVER_START_SECONDS}s:\n{log.read_text()}")


# --- who writes, and what they were told ----------------------------------------------------


@dataclass
class Cast:
    """The people the load is made by, and the records set aside for it, made before round 1."""

    admin_token: str
    practitioner_tokens: list[str]
    registrar_session: str
    applications: list[list[ApplicationRecord]]  # one list per round
    renewals: list[list[tuple[int, str]]]  # (entry id, its practitioner's session) per round


async def make_cast(settings: Settings) -> Cast:
    # No passwords: sessions and tokens are made here, and a password hash costs ~0.3 s.
    admin = await create_user("admin@example.org", "Ada Admin", [Role.admin])
    _, admin_token = await tokens.issue_api_token(admin.id, "crash test")
    practitioner_tokens = []
    for number in range(2):
        holder = await create_user(f"holder{number}@example.org", "Tom Holder", [Role.practitioner])
        practitioner_tokens.append((await tokens.issue_api_token(holder.id, "crash test"))[1])
    registrar_session = (await sign_in(await registrar())).session_token
    applications = [
        [
            await submitted_application(
                settings.data_dir, email=f"applicant{round_}-{number}@example.org"
            )
            for number in range(DECISIONS_PER_ROUND)
        ]
        for round_ in range(ROUNDS)
    ]
    until = date(clock.now().year, 12, 31)  # the deadline of the window the server is given
    renewals = []
    for round_ in range(ROUNDS):
        this_round = []
        for number in range(RENEWALS_PER_ROUND):
            account = await create_user(
                f"renewer{round_}-{number}@example.org", "Pat Renewer", [Role.practitioner]
            )
            entry = await put_on_register(
                "Pat", f"Renewer{round_}x{number}", until=until, account_id=account.id
            )
            await exempt_from_cpd(entry.id)
            this_round.append((entry.id, await start_session(account, "127.0.0.1", "crash")))
        renewals.append(this_round)
    return Cast(admin_token, practitioner_tokens, registrar_session, applications, renewals)


@dataclass
class Acknowledged:
    """Every write the server answered with success, across every round."""

    tokens: set[int] = field(default_factory=set)
    invites: set[str] = field(default_factory=set)
    decisions: dict[int, str] = field(default_factory=dict)  # application id -> status
    renewals: set[int] = field(default_factory=set)  # entry ids
    sign_ups: set[str] = field(default_factory=set)


@dataclass
class Round:
    """One round's load: counts what was acknowledged and what is in flight."""

    server: Server
    acked: Acknowledged
    kinds: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    enough: asyncio.Event = field(default_factory=asyncio.Event)

    @contextlib.asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    def ack(self, kind: str) -> None:
        self.kinds[kind] += 1
        if sum(self.kinds.values()) >= ACKS_PER_ROUND:
            self.enough.set()


_serials = itertools.count(1)


def _client(base_url: str, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=ROUND_SECONDS, **kwargs)


async def _csrf(browser: httpx.AsyncClient, page: str) -> str:
    opened_page = await browser.get(page)
    found = re.search(r'name="_csrf_token" value="([^"]+)"', opened_page.text)
    assert found is not None, (page, opened_page.status_code)
    return found.group(1)


async def _until_down(write: Callable[[], Awaitable[bool]]) -> None:
    """Repeat ``write`` until it has nothing left to do or the server is gone."""
    with contextlib.suppress(httpx.TransportError):
        while await write():
            pass


async def make_tokens(load: Round, bearer: str) -> None:
    async with _client(load.server.base_url, headers={"authorization": f"Bearer {bearer}"}) as api:

        async def write() -> bool:
            async with load.sending():
                made = await api.post("/api/v1/me/tokens", json={"name": f"t{next(_serials)}"})
            assert made.status_code == 201, made.text
            load.acked.tokens.add(made.json()["id"])
            load.ack("token")
            return True

        await _until_down(write)


async def invite_staff(load: Round, bearer: str) -> None:
    async with _client(load.server.base_url, headers={"authorization": f"Bearer {bearer}"}) as api:

        async def write() -> bool:
            email = f"invitee{next(_serials)}@example.org"
            async with load.sending():
                made = await api.post(
                    "/api/v1/admin/users",
                    json={"email": email, "display_name": "Ivy Invitee", "roles": ["registrar"]},
                )
            assert made.status_code == 201, made.text
            load.acked.invites.add(email)
            load.ack("invite")
            return True

        await _until_down(write)


async def decide(load: Round, session: str, queue: list[ApplicationRecord]) -> None:
    async with _client(load.server.base_url, cookies={SESSION_COOKIE: session}) as browser:
        if not queue:
            return
        token = await _csrf(browser, f"/registrar/applications/{queue[-1].id}")

        async def write() -> bool:
            if not queue:
                return False
            record = queue.pop()
            move = list(MOVES)[record.id % len(MOVES)]
            fields, status = MOVES[move]
            data = {**fields, "version": str(record.version), "_csrf_token": token}
            async with load.sending():
                decided = await browser.post(
                    f"/registrar/applications/{record.id}/{move}", data=data
                )
            assert decided.status_code == 303, decided.text
            load.acked.decisions[record.id] = status
            load.ack("decision")
            return True

        await _until_down(write)


async def renew(load: Round, queue: list[tuple[int, str]]) -> None:
    async def write() -> bool:
        if not queue:
            return False
        entry_id, session = queue.pop()
        async with _client(load.server.base_url, cookies={SESSION_COOKIE: session}) as browser:
            token = await _csrf(browser, "/your-registration/renew")
            data = {
                "character_declaration": "no",
                "health_declaration": "no",
                "action": "confirm",
                "_csrf_token": token,
            }
            async with load.sending():
                renewed = await browser.post("/your-registration/renew", data=data)
        assert renewed.status_code == 303, renewed.text
        load.acked.renewals.add(entry_id)
        load.ack("renewal")
        return True

    await _until_down(write)


async def sign_up(load: Round) -> None:
    async with _client(load.server.base_url) as browser:
        token = await _csrf(browser, "/create-account")

        async def write() -> bool:
            serial = next(_serials)
            email = f"newcomer{serial}@example.org"
            data = {
                "display_name": "Nia Newcomer",
                "email": email,
                "password": PASSWORD,
                "password_confirmation": PASSWORD,
                "_csrf_token": token,
            }
            address = f"198.51.{serial // 250}.{serial % 250 + 1}"
            async with load.sending():
                made = await browser.post(
                    "/create-account", data=data, headers={"x-forwarded-for": address}
                )
            assert made.status_code == 303, made.text
            load.acked.sign_ups.add(email)
            load.ack("sign_up")
            return True

        await _until_down(write)


async def run_round(load: Round, cast: Cast, number: int) -> int:
    """Drive every kind of write until enough are acknowledged, then kill the server; returns
    how many requests were in flight at the kill."""
    writers = [
        *(make_tokens(load, bearer) for bearer in cast.practitioner_tokens),
        invite_staff(load, cast.admin_token),
        decide(load, cast.registrar_session, cast.applications[number]),
        decide(load, cast.registrar_session, cast.applications[number]),
        renew(load, cast.renewals[number]),
        renew(load, cast.renewals[number]),
        sign_up(load),
    ]
    running = [asyncio.ensure_future(writer) for writer in writers]
    try:
        await asyncio.wait_for(load.enough.wait(), ROUND_SECONDS)
        in_flight = load.in_flight
    finally:
        await load.server.kill()
        # Every writer now fails on its dead connection; an assertion in one is raised here.
        await asyncio.gather(*running)
    return in_flight


# --- what must hold after every crash -------------------------------------------------------


def _audited(what: str, table: str, action: str) -> dict[str, str]:
    """The rules that every row of ``table`` has its ``action`` audit entry, and the reverse."""
    return {
        f"{what} without its audit entry": f"""
            SELECT t.id FROM {table} t WHERE NOT EXISTS (
                SELECT 1 FROM audit_entry a WHERE a.action = '{action}'
                AND a.target_id = CAST(t.id AS TEXT))""",
        f"an audit entry for {what} that is not there": f"""
            SELECT a.id FROM audit_entry a WHERE a.action = '{action}' AND NOT EXISTS (
                SELECT 1 FROM {table} t WHERE CAST(t.id AS TEXT) = a.target_id)""",
    }


# Each query names rows that break a rule; every one must come back empty. Written for both
# engines: ids are compared with the audit trail's text target ids through CAST.
WHOLE = {
    **_audited("a token", "account_api_token", "accounts.token_issued"),
    **_audited("an account", "account_user", "accounts.user_created"),
    "an account without a role": """
        SELECT u.id FROM account_user u WHERE NOT EXISTS (
            SELECT 1 FROM account_user_role r WHERE r."user" = u.id)""",
    # The load's invitees (the applicants made before round 1 have no password either).
    "an invited account without its link or its email": """
        SELECT u.id FROM account_user u WHERE u.email LIKE 'invitee%' AND (
            NOT EXISTS (SELECT 1 FROM account_password_reset p WHERE p."user" = u.id)
            OR NOT EXISTS (SELECT 1 FROM notification_outbox o
                WHERE o.recipient = u.email AND o.template = 'invitation'))""",
    "a signed-up account without its confirmation link, email or audit entry": """
        SELECT u.id FROM account_user u WHERE u.email_confirmed_at IS NULL AND (
            NOT EXISTS (SELECT 1 FROM account_email_confirmation c WHERE c."user" = u.id)
            OR NOT EXISTS (SELECT 1 FROM notification_outbox o
                WHERE o.recipient = u.email AND o.template = 'confirm_email')
            OR NOT EXISTS (SELECT 1 FROM audit_entry a WHERE a.action = 'accounts.signed_up'
                AND a.target_id = CAST(u.id AS TEXT)))""",
    "a decided application without its audit entry or its email": """
        SELECT ap.id FROM register_application ap
        JOIN (SELECT 'approved' AS status, 'register.application_approved' AS action,
                     'application_approved' AS template
              UNION ALL SELECT 'rejected', 'register.application_rejected',
                     'application_rejected'
              UNION ALL SELECT 'further_information_requested',
                     'register.application_information_requested',
                     'application_information_requested') d ON d.status = ap.status
        WHERE NOT EXISTS (SELECT 1 FROM audit_entry a WHERE a.action = d.action
                AND a.target_id = CAST(ap.id AS TEXT))
           OR NOT EXISTS (SELECT 1 FROM notification_outbox o
                WHERE o.recipient = ap.email AND o.template = d.template)""",
    "a decision audit entry or email without the decision": """
        SELECT ap.id FROM register_application ap WHERE ap.status = 'submitted' AND (
            EXISTS (SELECT 1 FROM audit_entry a WHERE a.target_type = 'register_application'
                AND a.target_id = CAST(ap.id AS TEXT) AND a.action IN (
                    'register.application_approved', 'register.application_rejected',
                    'register.application_information_requested'))
            OR EXISTS (SELECT 1 FROM notification_outbox o WHERE o.recipient = ap.email
                AND o.template IN ('application_approved', 'application_rejected',
                                   'application_information_requested')))""",
    "an approved application without its entry": """
        SELECT ap.id FROM register_application ap WHERE ap.status = 'approved'
        AND ap.entry IS NULL""",
    "an entry without its history, roles, name keys or public document": """
        SELECT e.id FROM register_entry e WHERE e.public_document = ''
            OR NOT EXISTS (SELECT 1 FROM register_entry_history h
                WHERE h.entry = e.id AND h.change = 'created')
            OR NOT EXISTS (SELECT 1 FROM register_entry_role r WHERE r.entry = e.id)
            OR NOT EXISTS (SELECT 1 FROM register_name_key k WHERE k.entry = e.id)""",
    "a registered entry without exactly one current registration certificate": """
        SELECT e.id FROM register_entry e WHERE e.state = 'registered' AND (
            SELECT COUNT(*) FROM certificate c WHERE c.entry = e.id
            AND c.kind = 'registration' AND c.revoked_at IS NULL
            AND c.superseded_by IS NULL) <> 1""",
    "two certificates at one index of a status list": """
        SELECT c.revocation_list FROM certificate c GROUP BY c.revocation_list,
            c.revocation_index HAVING COUNT(*) > 1
        UNION ALL SELECT c.suspension_list FROM certificate c GROUP BY c.suspension_list,
            c.suspension_index HAVING COUNT(*) > 1""",
    "a renewal without its history, audit entry, email or new date": """
        SELECT n.id FROM register_renewal n JOIN register_entry e ON e.id = n.entry
        WHERE e.registered_until <> n.registered_until_after
            OR NOT EXISTS (SELECT 1 FROM register_entry_history h
                WHERE h.entry = e.id AND h.change = 'renewed')
            OR NOT EXISTS (SELECT 1 FROM audit_entry a WHERE a.action = 'register.renewed'
                AND a.target_id = e.registration_number)
            OR NOT EXISTS (SELECT 1 FROM notification_outbox o
                WHERE o.template = 'renewal_confirmed' AND o.body LIKE
                    '%' || e.registration_number || '%')""",
    "a renewal's history, audit entry or new date without the renewal": """
        SELECT e.id FROM register_entry e WHERE NOT EXISTS (
                SELECT 1 FROM register_renewal n WHERE n.entry = e.id)
            AND (EXISTS (SELECT 1 FROM register_entry_history h
                    WHERE h.entry = e.id AND h.change = 'renewed')
                OR EXISTS (SELECT 1 FROM audit_entry a WHERE a.action = 'register.renewed'
                    AND a.target_id = e.registration_number))""",
}


async def broken_rules() -> dict[str, list[Any]]:
    found = {}
    for rule, sql in WHOLE.items():
        rows = await Application.raw(sql)
        if rows:
            found[rule] = [next(iter(row.values())) for row in rows]
    return found


async def missing_acknowledged(acked: Acknowledged) -> dict[str, list[Any]]:
    token_ids = {row["id"] for row in await ApiToken.select(ApiToken.id)}
    emails = {row["email"] for row in await User.select(User.email)}
    statuses = {
        row["id"]: row["status"]
        for row in await Application.select(Application.id, Application.status)
    }
    renewed = {row["entry"] for row in await Renewal.select(Renewal.entry)}
    missing: dict[str, list[Any]] = {
        "tokens": sorted(acked.tokens - token_ids),
        "invites": sorted(acked.invites - emails),
        "decisions": sorted(i for i, s in acked.decisions.items() if statuses.get(i) != s),
        "renewals": sorted(acked.renewals - renewed),
        "sign_ups": sorted(acked.sign_ups - emails),
    }
    return {kind: lost for kind, lost in missing.items() if lost}


def integrity_check(settings: Settings) -> str:
    with contextlib.closing(sqlite3.connect(settings.sqlite_path)) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


async def test_writes_acknowledged_before_a_crash_survive_it_whole(
    database: Settings, engine_name: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    async with opened(database):
        cast = await make_cast(database)
    print(f"[{engine_name}] set up in {time.monotonic() - started:.1f}s")
    acked = Acknowledged()
    for number in range(ROUNDS):
        began = time.monotonic()
        server = await start_server(database, tmp_path, number)
        ready = time.monotonic()
        load = Round(server, acked)
        in_flight = await run_round(load, cast, number)
        assert in_flight > 0, "the kill came with nothing in flight"
        killed = time.monotonic()

        if engine_name == "sqlite":
            assert integrity_check(database) == "ok"
        status, output = await registry_command(database, "audit", "verify")
        assert (status, output.split()[0]) == (0, "ok"), output
        async with opened(database):
            assert await missing_acknowledged(acked) == {}
            assert await broken_rules() == {}
        print(
            f"[{engine_name}] round {number + 1}: killed after {sum(load.kinds.values())} "
            f"acknowledged ({dict(load.kinds)}) with {in_flight} in flight; all there, none in "
            f"part; audit {output.strip()}; ready in {ready - began:.1f}s, load "
            f"{killed - ready:.1f}s, checks {time.monotonic() - killed:.1f}s"
        )

    # Up again after the last crash: every token acknowledged is listed by the API.
    server = await start_server(database, tmp_path, ROUNDS)
    try:
        listed: set[int] = set()
        for bearer in cast.practitioner_tokens:
            async with _client(
                server.base_url, headers={"authorization": f"Bearer {bearer}"}
            ) as api:
                answer = await api.get("/api/v1/me/tokens")
                assert answer.status_code == 200
                listed |= {token["id"] for token in answer.json()}
        assert acked.tokens <= listed
    finally:
        await server.stop()
    print(f"[{engine_name}] {ROUNDS} kills in {time.monotonic() - started:.1f}s")
