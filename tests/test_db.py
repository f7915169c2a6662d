"""registry.db: the hot-path read helper and the PostgreSQL pool's connection settings."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from registry import db
from registry.db import (
    KEY_READERS,
    RANGE_READERS,
    InLoopConnection,
    RegistryPostgresEngine,
    RegistrySQLiteEngine,
    _compile,
    bound_engine,
    create_engine,
    fetch_all_by_key,
    fetch_one,
    fetch_one_batched,
    fetch_one_by_key,
    short_transaction,
    transaction,
    write_coming,
)
from registry.register.tables import Practitioner
from tests.support import make_settings

ADA = {"given_names": "Ada", "family_name": "Byron"}
BY_NAME = "SELECT given_names, family_name FROM register_practitioner WHERE search_name = {}"


async def add_practitioner(given: str, family: str) -> None:
    await Practitioner.insert(
        Practitioner(
            given_names=given,
            family_name=family,
            search_name=f"{given} {family}".lower(),
            date_of_birth=date(1980, 1, 2),
            created_at=datetime.now(UTC),
        )
    )


async def elsewhere(sql: str, *args: object) -> dict[str, object] | None:
    """``fetch_one`` as another request would run it: outside this task's transaction."""
    return await asyncio.create_task(fetch_one(sql, *args), context=contextvars.Context())


@contextlib.asynccontextmanager
async def own_postgres_engine(tmp_path: Path) -> AsyncIterator[RegistryPostgresEngine]:
    """A PostgreSQL engine of the test's own, started, and stopped after (a test using it takes
    ``engine_name`` and is marked ``postgres_only``, so it is made once, for PostgreSQL)."""
    engine = create_engine(make_settings("postgres", tmp_path))
    assert isinstance(engine, RegistryPostgresEngine)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


async def test_fetch_one_gives_the_row_by_column_name_or_none(client: httpx.AsyncClient) -> None:
    await add_practitioner("Ada", "Byron")
    assert await fetch_one(BY_NAME, "ada byron") == ADA
    assert await fetch_one(BY_NAME, "nobody here") is None


async def test_fetch_one_takes_several_arguments_in_order(client: httpx.AsyncClient) -> None:
    await add_practitioner("Ada", "Byron")
    sql = (
        "SELECT family_name FROM register_practitioner WHERE given_names = {} AND family_name = {}"
    )
    assert await fetch_one(sql, "Ada", "Byron") == {"family_name": "Byron"}
    assert await fetch_one(sql, "Byron", "Ada") is None


async def test_fetch_one_sees_its_own_transaction_and_others_only_after_commit(
    client: httpx.AsyncClient,
) -> None:
    async with transaction():
        await add_practitioner("Ada", "Byron")
        assert await fetch_one(BY_NAME, "ada byron") == ADA
        assert await elsewhere(BY_NAME, "ada byron") is None
    assert await elsewhere(BY_NAME, "ada byron") is not None


async def test_fetch_one_does_not_see_a_rolled_back_write(client: httpx.AsyncClient) -> None:
    async def add_then_fail() -> None:
        async with transaction():
            await add_practitioner("Ada", "Byron")
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError, match="undo"):
        await add_then_fail()
    assert await fetch_one(BY_NAME, "ada byron") is None


def test_placeholders_are_numbered_on_postgres_and_question_marks_on_sqlite() -> None:
    sql = "SELECT '{{}}' AS braces FROM t WHERE a = {} AND b = {}"
    assert _compile(sql, "postgres") == "SELECT '{}' AS braces FROM t WHERE a = $1 AND b = $2"
    assert _compile(sql, "sqlite") == "SELECT '{}' AS braces FROM t WHERE a = ? AND b = ?"
    with pytest.raises(ValueError, match="placeholders are allowed"):
        _compile("SELECT {name}", "sqlite")


@pytest.mark.postgres_only
async def test_pooled_postgres_connections_plan_each_query_and_drop_open_transactions(
    engine_name: str, tmp_path: Path
) -> None:
    async with own_postgres_engine(tmp_path) as engine:
        assert engine.pool is not None
        mode = await engine.pool.fetchval("SELECT current_setting('plan_cache_mode')")
        assert mode == "force_custom_plan"
        # The pool skips asyncpg's session reset, but a transaction left open on release is still
        # rolled back before the connection is handed out again.
        async with engine.pool.acquire() as connection:
            await connection.execute("BEGIN")
            await connection.execute("CREATE TEMPORARY TABLE left_open (n int)")
        for _ in range(engine.pool_size):
            assert await engine.pool.fetchval("SELECT to_regclass('pg_temp.left_open')") is None


def test_binding_an_explicit_engine_makes_no_files_in_the_working_directory(
    tmp_path: Path,
) -> None:
    """Importing Piccolo's configuration and binding an engine must not create ``./var`` (the
    default data directory) wherever the command happens to run."""
    work = tmp_path / "work"
    work.mkdir()
    data = tmp_path / "data"
    script = (
        "from registry.config import Settings\n"
        "from registry.db import bind_engine, bound_engine, create_engine\n"
        "from registry import piccolo_conf\n"
        f"engine = create_engine(Settings(data_dir={str(data)!r}, secret_key='k' * 40))\n"
        "bind_engine(engine)\n"
        "assert bound_engine() is engine and piccolo_conf.DB is engine\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=work, check=True, env=_clean_env())
    assert list(work.iterdir()) == []


def _clean_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("REGISTRY_")}


@pytest.mark.sqlite_only
async def test_transactions_queue_for_one_long_lived_write_connection_on_sqlite(
    client: httpx.AsyncClient,
) -> None:
    engine = bound_engine()
    assert isinstance(engine, RegistrySQLiteEngine)
    used: list[object] = []
    inside = 0

    async def add(number: int) -> None:
        nonlocal inside
        async with transaction() as opened:
            inside += 1
            assert inside == 1  # one transaction at a time holds the connection
            used.append(opened.connection)
            await add_practitioner(f"Ada{number}", "Byron")
            await asyncio.sleep(0)  # let the others try to start meanwhile
            inside -= 1

    await asyncio.gather(*(add(number) for number in range(8)))
    await add_practitioner("Outside", "Transaction")  # a write outside one uses it too

    assert len({id(connection) for connection in used}) == 1
    assert await Practitioner.count() == 9


@pytest.mark.sqlite_only
async def test_a_failed_commit_is_rolled_back_before_the_connection_is_lent_again(
    client: httpx.AsyncClient,
) -> None:
    engine = bound_engine()
    assert isinstance(engine, RegistrySQLiteEngine)
    dangling = "INSERT INTO cpd_activity_standard (activity, standard) VALUES ({}, {})"

    async def commit_fails() -> None:
        async with transaction():
            await fetch_one("PRAGMA defer_foreign_keys = ON")
            await fetch_one(dangling, 999_999, 999_999)  # refused only at COMMIT

    with pytest.raises(sqlite3.IntegrityError):
        await commit_fails()
    async with transaction():
        await add_practitioner("Ada", "Byron")
    assert await fetch_one("SELECT COUNT(*) AS n FROM cpd_activity_standard") == {"n": 0}
    assert await fetch_one(BY_NAME, "ada byron") == ADA


@pytest.mark.sqlite_only
async def test_a_short_transaction_runs_in_the_loop_unless_another_process_is_writing(
    client: httpx.AsyncClient,
) -> None:
    engine = bound_engine()
    assert isinstance(engine, RegistrySQLiteEngine)
    async with short_transaction() as opened:
        await add_practitioner("Ada", "Byron")
        assert isinstance(opened.connection, InLoopConnection)
        assert await elsewhere(BY_NAME, "ada byron") is None
    assert await elsewhere(BY_NAME, "ada byron") == ADA

    async def add_then_fail() -> None:
        async with short_transaction():
            await add_practitioner("Bea", "Byron")
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError, match="undo"):
        await add_then_fail()
    assert await fetch_one(BY_NAME, "bea byron") is None

    # Another process holds SQLite's write lock: the transaction waits for it off the loop, on
    # the threaded connection, instead of failing or stalling every request.
    other = sqlite3.connect(engine.connection_kwargs["database"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    used: list[object] = []

    async def add_while_locked() -> None:
        async with short_transaction() as opened:
            used.append(opened.connection)
            await add_practitioner("Cy", "Byron")

    waiting = asyncio.create_task(add_while_locked())
    for _ in range(3):
        await asyncio.sleep(0)  # let it try the loop's connection, find it locked, and wait
    other.execute("COMMIT")
    other.close()
    await waiting
    assert not isinstance(used[0], InLoopConnection)
    assert await fetch_one(BY_NAME, "cy byron") == {"given_names": "Cy", "family_name": "Byron"}


@pytest.mark.sqlite_only
async def test_short_transactions_ending_together_share_one_commit_and_fail_alone(
    client: httpx.AsyncClient,
) -> None:
    """Group commit: writes that end in the same turn of the loop are stored by one COMMIT;
    one that fails is undone alone; each is stored (seen by another reader) when it returns."""
    engine = bound_engine()
    assert isinstance(engine, RegistrySQLiteEngine)
    commits_before = engine.group_commits
    seen_on_return: dict[str, object] = {}

    async def add(given: str) -> None:
        async with short_transaction() as opened:
            assert isinstance(opened.connection, InLoopConnection)
            await add_practitioner(given, "Byron")
            if given == "Fail":
                raise RuntimeError("undo")
        seen_on_return[given] = await elsewhere(BY_NAME, f"{given.lower()} byron")

    names = ["Ada", "Bea", "Fail", "Cy", "Di", "Ed", "Flo", "Gus"]
    outcomes = await asyncio.gather(*(add(name) for name in names), return_exceptions=True)

    assert [type(outcome).__name__ for outcome in outcomes] == [
        "RuntimeError" if name == "Fail" else "NoneType" for name in names
    ]
    stored = [name for name in names if name != "Fail"]
    assert seen_on_return == {
        name: {"given_names": name, "family_name": "Byron"} for name in stored
    }
    assert await fetch_one(BY_NAME, "fail byron") is None
    assert await Practitioner.count() == len(stored)
    # Eight writes started together: fewer COMMITs than writes, and every write stored.
    assert 1 <= engine.group_commits - commits_before < len(stored)


@pytest.mark.sqlite_only
async def test_when_a_group_commit_fails_every_write_in_it_fails_and_none_is_stored(
    client: httpx.AsyncClient,
) -> None:
    dangling = "INSERT INTO cpd_activity_standard (activity, standard) VALUES ({}, {})"

    async def add(given: str) -> None:
        async with short_transaction():
            await add_practitioner(given, "Byron")
            if given == "Dangling":  # a foreign key checked only at COMMIT: the group's
                await fetch_one("PRAGMA defer_foreign_keys = ON")
                await fetch_one(dangling, 999_999, 999_999)

    outcomes = await asyncio.gather(
        *(add(name) for name in ("Ada", "Dangling", "Bea")), return_exceptions=True
    )

    assert all(isinstance(outcome, sqlite3.OperationalError) for outcome in outcomes)
    assert "not stored" in str(outcomes[0])
    assert await Practitioner.count() == 0
    assert await fetch_one("SELECT COUNT(*) AS n FROM cpd_activity_standard") == {"n": 0}
    # The connection is lent again as good as new.
    async with short_transaction():
        await add_practitioner("Cy", "Byron")
    assert await fetch_one(BY_NAME, "cy byron") == {"given_names": "Cy", "family_name": "Byron"}


@pytest.mark.sqlite_only
async def test_writes_announced_as_coming_are_committed_together_however_staggered(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests still being received when the first write ends join its group: announced
    (write_coming) before their bodies are read, they are waited for, so eight writes that
    reach their transactions several turns of the loop apart share one COMMIT."""
    # Only the writes coming decide here, however slow the machine: not the wait's bound.
    monkeypatch.setattr(db, "GROUP_COMMIT_WAIT", 3600.0)
    engine = bound_engine()
    assert isinstance(engine, RegistrySQLiteEngine)
    commits_before = engine.group_commits
    names = ["Ada", "Bea", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"]

    async def request(turns: int, given: str) -> None:
        with write_coming():
            for _ in range(turns):  # the body arriving, a turn of the loop at a time
                await asyncio.sleep(0)
            async with short_transaction():
                await add_practitioner(given, "Byron")

    await asyncio.gather(*(request(3 * number, name) for number, name in enumerate(names)))

    assert await Practitioner.count() == len(names)
    assert engine.group_commits - commits_before == 1


@pytest.mark.sqlite_only
async def test_a_group_waits_for_writes_coming_only_so_long(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write announced that never joins does not hold the group: when it ends without
    writing the group is committed, and one still pending is waited for at most
    GROUP_COMMIT_WAIT."""
    monkeypatch.setattr(db, "GROUP_COMMIT_WAIT", 3600.0)  # first, only the write's end decides
    engine = bound_engine()
    assert isinstance(engine, RegistrySQLiteEngine)
    received = asyncio.Event()

    async def refused() -> None:  # announced, then refused before it writes anything
        with write_coming():
            await received.wait()

    async def stalled() -> None:  # announced, and its body never arrives while we look
        with write_coming():
            await asyncio.Event().wait()

    async def write(given: str) -> None:
        async with short_transaction():
            await add_practitioner(given, "Byron")

    pending = asyncio.create_task(refused())
    await asyncio.sleep(0)
    stored = asyncio.create_task(write("Ada"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not stored.done()  # waiting for the write announced
    received.set()
    await stored  # the refused write ended without joining: committed without it
    await pending
    assert engine.group_commits >= 1

    monkeypatch.setattr(db, "GROUP_COMMIT_WAIT", 0.05)  # then the bound, for one that never ends
    waiting = asyncio.create_task(stalled())
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await write("Bea")  # committed once the group has waited long enough
    assert loop.time() - started >= 0.05
    assert await elsewhere(BY_NAME, "bea byron") == {"given_names": "Bea", "family_name": "Byron"}
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting


# Each write first waits for a shared hold of an advisory lock: a test holding it exclusively
# keeps the batch that carries the first write on its way to PostgreSQL for as long as it likes.
HELD = 4242
INSERT_PRACTITIONER = (
    "INSERT INTO register_practitioner"
    " (given_names, family_name, search_name, date_of_birth, created_at)"
    " SELECT {}, {}, {}, {}, {} FROM (SELECT pg_advisory_xact_lock_shared(4242)) AS held"
    " RETURNING id, xmin::text AS transaction"
)


async def add_batched(given: str) -> dict[str, object] | None:
    name = f"{given} Byron"
    return await fetch_one_batched(
        INSERT_PRACTITIONER, given, "Byron", name.lower(), date(1980, 1, 2), datetime.now(UTC)
    )


@contextlib.asynccontextmanager
async def batch_on_its_way() -> AsyncIterator[asyncio.Task[dict[str, object] | None]]:
    """A first write sent and held on its way (PostgreSQL waits for the lock this holds) while
    the block runs; answered after it."""
    url = os.environ["REGISTRY_TEST_POSTGRES_URL"]
    holder = await asyncpg.connect(url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", HELD)
        first = asyncio.create_task(add_batched("First"))
        await asyncio.sleep(0)  # it is sent: the statement's batch is on its way
        try:
            yield first
        finally:
            await holder.execute("SELECT pg_advisory_unlock($1)", HELD)
        await first
    finally:
        await holder.close()


@pytest.mark.postgres_only
async def test_writes_made_while_a_batch_is_on_its_way_go_together_after_it(
    client: httpx.AsyncClient,
) -> None:
    """Group commit on PostgreSQL: the writes made while a batch of the same statement is on its
    way wait for it, then go as one exchange (one transaction: the same xmin on every row),
    each answered with its own row and stored when it returns."""
    names = ["Ada", "Bea", "Cy", "Di", "Ed", "Flo", "Gus"]
    answers: dict[str, dict[str, object] | None] = {}

    async def request(given: str) -> None:
        answers[given] = await add_batched(given)
        assert await elsewhere(BY_NAME, f"{given.lower()} byron") == {
            "given_names": given,
            "family_name": "Byron",
        }

    async with batch_on_its_way() as first:
        waiting = [asyncio.create_task(request(name)) for name in names]
        for _ in range(5):
            await asyncio.sleep(0)
        assert not any(task.done() for task in waiting)  # held behind the first batch
    await asyncio.gather(*waiting)

    together = {answer["transaction"] for answer in answers.values() if answer}
    assert len(together) == 1
    assert first.result() is not None
    assert first.result()["transaction"] not in together  # type: ignore[index]
    assert len({answer["id"] for answer in answers.values() if answer}) == len(names)
    assert await Practitioner.count() == len(names) + 1


@pytest.mark.postgres_only
async def test_a_refused_write_in_a_batch_fails_alone(client: httpx.AsyncClient) -> None:
    """PostgreSQL refuses one write of a batch (a name longer than its column): nothing of the
    batch was stored, so each is sent again alone, and only that one fails."""
    async with batch_on_its_way():
        outcomes = asyncio.gather(
            add_batched("Ada"), add_batched("X" * 1000), add_batched("Bea"), return_exceptions=True
        )
        await asyncio.sleep(0)
    done = await outcomes

    assert isinstance(done[0], dict)
    assert isinstance(done[1], asyncpg.PostgresError)
    assert isinstance(done[2], dict)
    assert done[0]["transaction"] != done[2]["transaction"]  # sent again, each alone
    assert sorted(str(row["given_names"]) for row in await Practitioner.select()) == [
        "Ada",
        "Bea",
        "First",
    ]


@pytest.mark.postgres_only
async def test_a_write_with_nothing_on_its_way_is_sent_at_once(
    client: httpx.AsyncClient,
) -> None:
    async with asyncio.timeout(30):
        answer = await add_batched("Ada")
    assert answer is not None
    assert await fetch_one(BY_NAME, "ada byron") == ADA


async def test_announcing_a_write_changes_nothing_on_its_own(client: httpx.AsyncClient) -> None:
    """On PostgreSQL (no group commit) and on SQLite alike, a write announced and made is
    stored, and one announced and not made leaves nothing behind."""
    with write_coming():
        async with short_transaction():
            await add_practitioner("Ada", "Byron")
    with write_coming():
        pass
    async with short_transaction():
        await add_practitioner("Bea", "Byron")
    assert await Practitioner.count() == 2


@pytest.mark.sqlite_only
async def test_any_other_transaction_commits_the_open_group_first(
    client: httpx.AsyncClient,
) -> None:
    engine = bound_engine()
    assert isinstance(engine, RegistrySQLiteEngine)
    order: list[str] = []

    async def short(given: str) -> None:
        async with short_transaction():
            await add_practitioner(given, "Byron")
        order.append(given)

    async def long() -> None:
        async with transaction() as opened:  # the threaded connection: not a group member
            assert not isinstance(opened.connection, InLoopConnection)
            await add_practitioner("Long", "Byron")
        order.append("Long")

    # The short writes end first and their group is still open when the other one starts.
    await asyncio.gather(short("Ada"), short("Bea"), long())

    assert sorted(order) == ["Ada", "Bea", "Long"]
    assert await Practitioner.count() == 3


async def test_fetch_one_by_key_sees_its_own_transaction_and_others_only_after_commit(
    client: httpx.AsyncClient,
) -> None:
    async def by_key_elsewhere() -> dict[str, object] | None:
        read = fetch_one_by_key(BY_NAME, "ada byron")
        return await asyncio.create_task(read, context=contextvars.Context())

    assert await by_key_elsewhere() is None
    async with transaction():
        await add_practitioner("Ada", "Byron")
        assert await fetch_one_by_key(BY_NAME, "ada byron") == ADA
        assert await by_key_elsewhere() is None
    assert await by_key_elsewhere() == ADA  # at once: nothing is kept between reads


async def test_fetch_all_by_key_sees_its_own_transaction_and_others_only_after_commit(
    client: httpx.AsyncClient,
) -> None:
    by_family = "SELECT given_names FROM register_practitioner WHERE family_name = {} ORDER BY id"

    async def by_key_elsewhere() -> list[dict[str, object]]:
        read = fetch_all_by_key(by_family, "Byron")
        return await asyncio.create_task(read, context=contextvars.Context())

    assert await by_key_elsewhere() == []
    async with transaction():
        await add_practitioner("Ada", "Byron")
        await add_practitioner("Cy", "Byron")
        inside = [{"given_names": "Ada"}, {"given_names": "Cy"}]
        assert await fetch_all_by_key(by_family, "Byron") == inside
        assert await by_key_elsewhere() == []
    assert await by_key_elsewhere() == inside  # at once: nothing is kept between reads


@pytest.mark.postgres_only
async def test_key_range_reads_wait_for_their_own_connections_and_a_failed_one_is_closed(
    engine_name: str, tmp_path: Path
) -> None:
    async with own_postgres_engine(tmp_path) as engine:
        rows = "SELECT n FROM generate_series(1, {}::int) n"
        assert await engine.fetch_all_by_key(rows, 2) == [{"n": 1}, {"n": 2}]
        with pytest.raises(Exception, match="division by zero"):
            await engine.fetch_all_by_key("SELECT 1 / {}::int AS n", 0)
        assert engine._range_readers.open == 0
        # More at once than there are connections: each waits its turn on them, in order.
        slow = "SELECT n FROM generate_series(1, {}::int) n, pg_sleep(0.01)"
        reads = [engine.fetch_all_by_key(slow, n) for n in range(3 * RANGE_READERS)]
        found = await asyncio.gather(*reads)
        assert found == [[{"n": i} for i in range(1, n + 1)] for n in range(3 * RANGE_READERS)]
        assert engine._range_readers.open == RANGE_READERS
        assert len(engine._range_readers.free) == RANGE_READERS
        # A read cancelled while it waits leaves the others theirs.
        waiting = [asyncio.create_task(engine.fetch_all_by_key(slow, 1)) for _ in range(6)]
        await asyncio.sleep(0)
        waiting[-1].cancel()
        assert [await read for read in waiting[:-1]] == [[{"n": 1}]] * 5
        assert waiting[-1].cancelled()
        assert len(engine._range_readers.free) == engine._range_readers.open == RANGE_READERS
    assert engine._range_readers.open == 0


@pytest.mark.postgres_only
async def test_a_failed_key_read_closes_its_connection_and_the_next_opens_another(
    engine_name: str, tmp_path: Path
) -> None:
    async with own_postgres_engine(tmp_path) as engine:
        assert await engine.fetch_one_by_key("SELECT {}::int AS n", 1) == {"n": 1}
        with pytest.raises(Exception, match="division by zero"):
            await engine.fetch_one_by_key("SELECT 1 / {}::int AS n", 0)
        assert engine._key_readers.open == 0
        # More at once than there are connections: each waits its turn on the engine's own.
        slow = "SELECT {}::int AS n, pg_backend_pid() AS pid FROM pg_sleep(0.01)"
        reads = [engine.fetch_one_by_key(slow, n) for n in range(3 * KEY_READERS)]
        found = await asyncio.gather(*reads)
        assert [row["n"] for row in found if row] == list(range(3 * KEY_READERS))
        own = {connection.get_server_pid() for connection in engine._key_readers.free}
        assert len(own) == KEY_READERS
        assert {row["pid"] for row in found if row} == own  # none went to the pool
    assert engine._key_readers.open == 0


@pytest.mark.postgres_only
async def test_a_key_read_waiting_when_the_engine_stops_leaves_no_connection_open(
    engine_name: str, tmp_path: Path
) -> None:
    async with own_postgres_engine(tmp_path) as engine:
        readers = engine._key_readers
        held = [await readers.lend() for _ in range(KEY_READERS)]
        waiting = asyncio.create_task(engine.fetch_one_by_key("SELECT {}::int AS n", 7))
        await asyncio.sleep(0)  # it waits for a connection: every one is lent
        assert not waiting.done()
        await readers.stop()
        for connection in held:  # the reads lent these finish after the stop
            await readers.retire(connection)
        assert await waiting == {"n": 7}
        assert readers.free == []
        assert readers.open == 0


@pytest.mark.postgres_only
async def test_key_reads_wait_in_the_order_they_asked_and_one_cancelled_leaves_the_rest_theirs(
    engine_name: str, tmp_path: Path
) -> None:
    async with own_postgres_engine(tmp_path) as engine:
        readers = engine._key_readers
        done: list[int] = []

        async def read(n: int) -> int:
            row = await engine.fetch_one_by_key("SELECT pg_backend_pid() AS pid, {}::int AS n", n)
            assert row is not None
            assert row["n"] == n
            done.append(n)
            return int(row["pid"])

        held = [await readers.lend() for _ in range(KEY_READERS)]  # every connection lent
        assert readers.open == KEY_READERS
        assert engine.pool is not None
        pool_size = engine.pool.get_size()
        tasks = [asyncio.create_task(read(n)) for n in range(5)]
        await asyncio.sleep(0)  # each asks, finds none free, and waits
        assert len(readers.waiting) == 5
        tasks[1].cancel()  # cancelled while it waits
        one = held.pop()
        readers.give_back(one)  # to read 0, which is then cancelled before it runs:
        tasks[0].cancel()  # the connection goes on to the next read still waiting
        assert [await task for task in tasks[2:]] == [one.get_server_pid()] * 3
        assert done == [2, 3, 4]  # one connection, in the order they asked
        assert tasks[0].cancelled()
        assert tasks[1].cancelled()
        assert engine.pool.get_size() == pool_size  # none went to the pool
        for connection in held:
            readers.give_back(connection)
        assert len(readers.free) == readers.open == KEY_READERS
        assert not readers.waiting
    assert readers.open == 0


@pytest.mark.postgres_only
async def test_a_key_read_waiting_when_a_connection_fails_opens_another(
    engine_name: str, tmp_path: Path
) -> None:
    async with own_postgres_engine(tmp_path) as engine:
        readers = engine._key_readers
        held = [await readers.lend() for _ in range(KEY_READERS - 1)]
        failing = asyncio.create_task(engine.fetch_one_by_key("SELECT 1 / {}::int AS n", 0))
        waiting = asyncio.create_task(engine.fetch_one_by_key("SELECT {}::int AS n", 7))
        with pytest.raises(Exception, match="division by zero"):
            await failing
        assert await waiting == {"n": 7}  # on a connection opened in place of the closed one
        assert readers.open == KEY_READERS
        for connection in held:
            readers.give_back(connection)
        assert len(readers.free) == KEY_READERS
    assert readers.open == 0
