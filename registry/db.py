"""The database: one engine per process, chosen by ``REGISTRY_DATABASE_URL``.

SQLite is the embedded default and PostgreSQL the production engine; both run through Piccolo.
Piccolo's stock ``SQLiteEngine`` opens a new connection (and a new thread) for every query and
every transaction, which caps a hot read path at about a thousand requests a second and cost a
write ~1 ms before its first statement. :class:`RegistrySQLiteEngine` keeps one long-lived read
connection instead (in WAL mode readers never block the writer, and each read runs as a single
call on that connection's thread so no read can hold a snapshot open across requests), and one
long-lived write connection, which one transaction at a time holds (SQLite admits one writer
anyway: the others now wait in the event loop instead of in SQLite's busy handler).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import sqlite3
import string
import warnings
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any, cast

import aiosqlite
import asyncpg
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table

from registry.config import Settings

BUSY_TIMEOUT_SECONDS = 10.0
# A group commit holds at most this many short transactions: under a steady stream of writes
# the group is committed at least this often, so no member waits long for its COMMIT.
GROUP_COMMIT_MOST = 64
# ... and an open group waits at most this long (seconds) for writes announced as coming
# (write_coming) before it is committed without them.
GROUP_COMMIT_WAIT = 0.005
# SQLite's own automatic checkpoint runs at 1,000 pages of WAL; a short write adds ten or so.
IN_LOOP_COMMITS_A_CHECKPOINT = 100
SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
    f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}",
)


class GroupCommitFailed(sqlite3.OperationalError):
    """The COMMIT of a group of short transactions failed: none of them was stored."""


class RegistrySQLiteTransaction(SQLiteTransaction):
    """A transaction on the engine's long-lived write connection, held until it ends.

    Piccolo's own opens a connection (a thread, the pragmas, the schema read) for each
    transaction and closes it after. Here the connection is leased from the engine: the lease
    queues transactions of this process one behind the other, as SQLite's write lock would, and
    what a transaction leaves behind (a failed COMMIT leaves it open) is rolled back before the
    next one gets the connection. Nested transactions join the outer one, as in Piccolo.
    """

    __slots__ = ()

    async def __aenter__(self) -> RegistrySQLiteTransaction:
        if self._parent is not None:
            return cast(RegistrySQLiteTransaction, self._parent)
        engine = cast(RegistrySQLiteEngine, self.engine)
        self.connection = await engine.lease_writer()
        try:
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            await engine.return_writer(self.connection)
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        engine = cast(RegistrySQLiteEngine, self.engine)
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        finally:
            engine.current_transaction.reset(self.context)
            await engine.return_writer(self.connection)
        return exception is None


class InLoopConnection:
    """A sqlite3 connection used from the event loop's own thread, with the awaitable methods
    Piccolo's transactions and this engine call on an aiosqlite connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    @property
    def in_transaction(self) -> bool:
        return self.connection.in_transaction

    def begin_now(self, transaction_type: str) -> None:
        """BEGIN, or "database is locked" at once if another process holds the write lock."""
        self.connection.execute(f"BEGIN {transaction_type}")

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, tuple(parameters))

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] = ()) -> list[Any]:
        return self.connection.execute(sql, tuple(parameters)).fetchall()

    async def commit(self) -> None:
        self.connection.commit()

    async def close(self) -> None:
        self.connection.close()


class ShortSQLiteTransaction(RegistrySQLiteTransaction):
    """A transaction of a few statements by indexed keys, run in the event loop's thread, and
    committed together with the others that end in the same turn of the loop.

    Each statement through aiosqlite is a hop to its thread and back, which on a busy machine
    costs more than the statement: a request's write of five or six statements spent most of
    its time in those hops. Once this process holds the write connection (the same lease as
    every transaction) it tries ``BEGIN IMMEDIATE`` on a connection of the loop's own thread
    that never waits: if another process holds SQLite's write lock, the transaction runs on the
    threaded write connection instead, which waits off the loop. Holding the lock, its
    statements never wait on another writer, and WAL with ``synchronous = NORMAL`` does not
    sync at commit; the loop's connection never checkpoints itself (that can sync the file):
    the engine checkpoints from the threaded connection now and then instead.

    Group commit: the COMMIT (writing every page the transaction changed to the WAL) was the
    dearest statement of a short write. On the loop's connection each transaction is a
    savepoint (a *member*) inside one open transaction (the *group*); when a member ends, the
    group is committed once the loop has run what was already waiting to run, so the requests
    whose writes end in the same turn share one COMMIT and write the pages they share (the
    audit trail's newest index pages, above all) once. A member that fails is rolled back to
    its savepoint, leaving the others' writes as they were; a member that succeeds waits for
    the group's COMMIT before it returns, so nothing is answered before it is stored, and if
    the COMMIT fails every member of the group fails with it. Any other transaction of this
    process commits the open group before it starts (:meth:`RegistrySQLiteEngine.lease_writer`).
    A request's write announced as coming (:func:`write_coming`, around the fast writes) is
    waited for as well, up to GROUP_COMMIT_WAIT: served, the requests of one moment reach their
    transactions several turns of the loop apart (each body is received from the server's own
    threads), and without the wait nearly every group held one write.
    """

    __slots__ = ("_member",)

    async def __aenter__(self) -> RegistrySQLiteTransaction:
        if self._parent is not None:
            return cast(RegistrySQLiteTransaction, self._parent)
        engine = cast(RegistrySQLiteEngine, self.engine)
        writer = await engine.lease_writer(joining=True)
        in_loop = engine.in_loop_writer()
        self._member = False
        try:
            if in_loop is None:
                self.connection = writer
                await self.begin()  # type: ignore[no-untyped-call]
            else:
                try:
                    engine.join_group(in_loop, self.transaction_type.value)
                    self.connection = in_loop
                    self._member = True
                except sqlite3.OperationalError:  # another process is writing: wait off the loop
                    self.connection = writer
                    await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            await engine.return_writer(writer)
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None or not self._member:
            return await super().__aexit__(exception_type, exception, traceback)
        engine = cast(RegistrySQLiteEngine, self.engine)
        engine.current_transaction.reset(self.context)
        stored = engine.leave_group(failed=exception is not None)
        if stored is not None:
            await stored  # the group's COMMIT: raises as it failed
        return exception is None


class RegistrySQLiteEngine(SQLiteEngine):
    """SQLite in WAL mode with foreign keys on, a busy timeout, a shared read connection and a
    long-lived write connection."""

    def __init__(self, path: str) -> None:
        super().__init__(path=path, timeout=BUSY_TIMEOUT_SECONDS)
        self._reader: aiosqlite.Connection | None = None
        self._direct: sqlite3.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        # Created in start(), in the loop that serves; before it (Piccolo's own command line)
        # every transaction opens a connection of its own, as Piccolo does.
        self._write_lock: asyncio.Lock | None = None
        self._in_loop: InLoopConnection | None = None
        self._in_loop_commits = 0
        self._checkpoints: set[asyncio.Task[None]] = set()
        # The open group commit on the loop's connection (see ShortSQLiteTransaction): the
        # members that ended well, each waiting for the COMMIT. None when none is open.
        self._group: list[asyncio.Future[None]] | None = None
        self._group_due: asyncio.TimerHandle | None = None  # its commit, however many come
        self._coming = 0  # writes announced (write_coming) that have not joined a group yet
        self.group_commits = 0  # COMMITs of groups, for measuring

    async def lease_writer(self, *, joining: bool = False) -> aiosqlite.Connection:
        """The write connection, for the caller alone until :meth:`return_writer`.

        Waits at most as long as SQLite's busy timeout would have, then fails as SQLite does
        ("database is locked"), so a transaction that waits on itself (one started where the
        open transaction cannot be seen) fails instead of hanging. The open group commit is
        committed first, unless the caller is ``joining`` it (a short transaction)."""
        lock = self._write_lock
        if lock is None:
            return await self.get_connection()
        if lock.locked():  # bounded: the holder may be the caller's own open transaction
            try:
                async with asyncio.timeout(BUSY_TIMEOUT_SECONDS):
                    await lock.acquire()
            except TimeoutError:
                raise sqlite3.OperationalError("database is locked") from None
        else:  # free: taken at once, or after the writes already queued (none of them ours)
            await lock.acquire()
        if not joining:
            self._commit_group()
        try:
            if self._writer is None:
                self._writer = await self.get_connection()
        except BaseException:
            lock.release()
            raise
        return self._writer

    def join_group(self, in_loop: InLoopConnection, transaction_type: str) -> None:
        """Begin a member of the group commit (call holding the lease): the group's
        transaction if none is open (``BEGIN``, which fails at once if another process
        holds the write lock), then the member's savepoint."""
        if self._group is None:
            in_loop.begin_now(transaction_type)
            self._group = []
            loop = asyncio.get_running_loop()
            self._group_due = loop.call_later(GROUP_COMMIT_WAIT, self._commit_group_when_due)
        try:
            in_loop.connection.execute("SAVEPOINT member")
        except BaseException:
            self._commit_group()
            raise
        coming = _COMING.get()
        if coming is not None and coming.engine is self:
            coming.arrive()

    def leave_group(self, *, failed: bool) -> asyncio.Future[None] | None:
        """End a member (call holding the lease, which this gives back): released into the
        group, or, when it ``failed``, rolled back to its savepoint. A member that ended well
        gets the future of the group's COMMIT, scheduled for when the loop has run what was
        waiting to run (the other requests that may join)."""
        in_loop, group, lock = self._in_loop, self._group, self._write_lock
        assert in_loop is not None
        assert group is not None
        assert lock is not None
        try:
            if failed:
                in_loop.connection.execute("ROLLBACK TO member")
            in_loop.connection.execute("RELEASE member")
        except BaseException as error:  # the connection is in doubt: nothing of the group stays
            self._fail_group(error)
            lock.release()
            raise
        loop = asyncio.get_running_loop()
        stored = None if failed else loop.create_future()
        if stored is not None:
            group.append(stored)
        if len(group) >= GROUP_COMMIT_MOST:
            self._commit_group()
        else:
            loop.call_soon(loop.call_soon, self._commit_group_if_idle)
        lock.release()
        return stored

    def _commit_group_if_idle(self) -> None:
        """Commit the open group unless a member holds the lease (its end commits it then) or
        a write announced as coming has yet to join it (it will, or its end says it did not)."""
        lock = self._write_lock
        waiting = self._coming and self._group_due is not None  # for writes coming, not too long
        if self._group is not None and lock is not None and not lock.locked() and not waiting:
            self._commit_group()

    def _commit_group_when_due(self) -> None:
        """The open group has waited long enough for the writes coming: committed now, or by
        the member that holds the lease when it ends."""
        self._group_due = None  # so no write coming holds it any longer
        self._commit_group_if_idle()

    def expect_write(self) -> None:
        """A write has begun that will join the group soon (:func:`write_coming`)."""
        self._coming += 1

    def arrived(self) -> None:
        """A write announced as coming has joined a group, or ended without one."""
        self._coming -= 1
        if not self._coming and self._group is not None:
            asyncio.get_running_loop().call_soon(self._commit_group_if_idle)

    def _commit_group(self) -> None:
        """COMMIT the open group, if any, and tell its members (call holding the lease, or
        with the lease free)."""
        group, in_loop = self._group, self._in_loop
        if group is None or in_loop is None:
            return
        self._cancel_due()
        try:
            in_loop.connection.execute("COMMIT")
        except BaseException as error:
            self._fail_group(error)
            return
        self._group = None
        self.group_commits += 1
        for stored in group:
            if not stored.done():
                stored.set_result(None)
        self._checkpoint_now_and_then()

    def _fail_group(self, error: BaseException) -> None:
        """Roll the open group back and fail each member waiting on it with ``error``."""
        group, in_loop = self._group, self._in_loop
        self._group = None
        self._cancel_due()
        if in_loop is not None and in_loop.in_transaction:
            try:
                in_loop.connection.execute("ROLLBACK")
            except Exception:  # a connection that cannot even roll back is not used again
                self._in_loop = None
                with contextlib.suppress(Exception):
                    in_loop.connection.close()
        for stored in group or ():
            if not stored.done():
                stored.set_exception(GroupCommitFailed(f"the write was not stored: {error}"))

    def _cancel_due(self) -> None:
        if self._group_due is not None:
            self._group_due.cancel()
            self._group_due = None

    def in_loop_writer(self) -> InLoopConnection | None:
        """The write connection of the loop's own thread (call only holding the lease)."""
        if self._write_lock is None:
            return None
        if self._in_loop is None:
            self._in_loop = InLoopConnection(self._open_in_loop())
        return self._in_loop

    def _open_in_loop(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(
            **{**self.connection_kwargs, "check_same_thread": False}
        )
        connection.row_factory = dict_factory
        for pragma in SQLITE_PRAGMAS:
            connection.execute(pragma)
        connection.execute("PRAGMA busy_timeout = 0")  # never wait in the loop
        connection.execute("PRAGMA wal_autocheckpoint = 0")  # see _checkpoint_now_and_then
        return connection

    def _checkpoint_now_and_then(self) -> None:
        """Every so many commits on the loop's connection, a passive checkpoint (it copies the
        WAL into the database file without waiting for anyone) on the threaded connection,
        as SQLite's automatic one would have done after about a thousand pages."""
        self._in_loop_commits += 1
        if self._in_loop_commits % IN_LOOP_COMMITS_A_CHECKPOINT or self._checkpoints:
            return
        task = asyncio.ensure_future(self._checkpoint())
        self._checkpoints.add(task)
        task.add_done_callback(self._checkpoints.discard)

    async def _checkpoint(self) -> None:
        connection = await self.lease_writer()
        try:
            await connection.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            await self.return_writer(connection)

    async def return_writer(self, connection: aiosqlite.Connection) -> None:
        """Give back the lease of :meth:`lease_writer` (the loop's own connection is given
        back by :meth:`leave_group`)."""
        lock = self._write_lock
        if lock is None or connection is not self._writer:
            await connection.close()  # not leased: its own connection
            return
        try:
            if connection.in_transaction:  # a COMMIT or ROLLBACK that failed
                await connection.execute("ROLLBACK")
        except BaseException:
            # A connection that cannot even roll back is not lent again.
            self._writer = None
            await _close_quietly(connection)
            raise
        finally:
            lock.release()

    async def get_connection(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        for pragma in SQLITE_PRAGMAS:
            await connection.execute(pragma)
        return connection

    async def start(self) -> None:
        """Switch the file to WAL (a persistent setting) and open the shared read connection."""
        connection = await self.get_connection()
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
        finally:
            await connection.close()
        if self._reader is None:
            self._reader = await self.get_connection()
        if self._direct is None:
            self._direct = _direct_reader(self.connection_kwargs["database"])
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()

    async def stop(self) -> None:
        if self._write_lock is not None:
            lock = self._write_lock
            for task in list(self._checkpoints):
                await task
            async with lock:  # the transaction in progress, if any, ends first
                self._commit_group()
                self._write_lock = None
                if self._in_loop is not None:
                    in_loop, self._in_loop = self._in_loop, None
                    await in_loop.close()
                if self._writer is not None:
                    writer, self._writer = self._writer, None
                    await writer.close()
        if self._direct is not None:
            direct, self._direct = self._direct, None
            direct.close()
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await reader.close()

    async def fetch_one_now(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """See :func:`fetch_one_now`: on the direct read connection, in this thread, unless a
        transaction is open or the file is locked (then as :meth:`fetch_one`)."""
        direct = self._direct
        if direct is None or self.current_transaction.get() is not None:
            return await self.fetch_one(sql, *args)
        try:
            cursor = direct.execute(_compile(sql, "sqlite"), args)
            rows = cursor.fetchall()  # to the end, so no read stays open between requests
        except sqlite3.OperationalError:
            # Busy or locked (a restore, a schema change): wait on the connection's own thread,
            # never in the event loop.
            return await self.fetch_one(sql, *args)
        if not rows:
            return None
        return dict(zip([column[0] for column in cursor.description], rows[0], strict=True))

    async def fetch_all_now(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """See :func:`fetch_all_now`: as :meth:`fetch_one_now`, every row."""
        direct = self._direct
        query = _compile(sql, "sqlite")
        if direct is not None and self.current_transaction.get() is None:
            try:
                cursor = direct.execute(query, args)
                rows = cursor.fetchall()
            except sqlite3.OperationalError:
                pass  # busy or locked: as fetch_one_now, wait off the event loop
            else:
                names = [column[0] for column in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in rows]
        transaction = self.current_transaction.get()
        if transaction is not None:
            connection = transaction.connection
            found = await self._run_in_existing_connection(connection, query, list(args))
        else:
            found = await self._run_in_new_connection(query, list(args))
        return [dict(row) for row in found]

    async def fetch_one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """See :func:`fetch_one`: in a transaction on its connection, else as any query outside
        one (a read on the shared read connection)."""
        query = _compile(sql, "sqlite")
        transaction = self.current_transaction.get()
        if transaction is not None:
            rows = await self._run_in_existing_connection(transaction.connection, query, list(args))
        else:
            rows = await self._run_in_new_connection(query, list(args))
        return cast("dict[str, Any] | None", next(iter(rows), None))

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        # Before start() (Piccolo's own command line, say) every query gets its own connection.
        if self._reader is not None and _is_read(query):
            return list(await self._reader.execute_fetchall(query, args or []))
        # A write outside a transaction: on the write connection, which commits it at once
        # (autocommit: Piccolo's connections have no isolation level).
        connection = await self.lease_writer()
        try:
            rows = list(await connection.execute_fetchall(query, args or []))
            await connection.commit()
            return rows
        finally:
            await self.return_writer(connection)

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        # Inside a transaction. Piccolo's own makes four trips to the connection's thread per
        # query (it sends PRAGMA foreign_keys again, then opens, reads and closes a cursor); the
        # pragma is set when the connection opens, so one trip does: bulk writes run ~2x faster.
        if query_type == "insert" and self.get_version_sync() < 3.35:  # no RETURNING
            return await super()._run_in_existing_connection(
                connection, query, args, query_type, table
            )
        return list(await connection.execute_fetchall(query, args or []))

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.immediate,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        # IMMEDIATE by default: a transaction that reads then writes would otherwise fail with
        # "database is locked" when it tries to upgrade its lock while another writer holds it.
        return RegistrySQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    def short_transaction(self) -> ShortSQLiteTransaction:
        return ShortSQLiteTransaction(engine=self, transaction_type=TransactionType.immediate)


async def _close_quietly(connection: aiosqlite.Connection | InLoopConnection) -> None:
    # Already broken: the error that matters is the one being raised.
    with contextlib.suppress(Exception):
        await connection.close()


def _direct_reader(path: str) -> sqlite3.Connection:
    """A read-only connection used from the event loop's own thread for short indexed reads.

    In WAL mode a reader never waits for the writer, so a one-row read by a unique key takes
    microseconds: less than the hop to aiosqlite's thread and back. It never waits at all (no
    busy timeout): when the file is locked, :meth:`RegistrySQLiteEngine.fetch_one_now` falls
    back to the threaded connection rather than stall every request in the loop.
    """
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA query_only = ON")
    connection.execute("PRAGMA busy_timeout = 0")
    return connection


def _is_read(query: str) -> bool:
    head = query.lstrip()[:7].upper()
    return head.startswith(("SELECT", "PRAGMA")) or (
        head.startswith("WITH") and "INSERT" not in query
    )


# Every connection the pool opens plans each statement for its own arguments. asyncpg prepares
# every statement, and after five runs PostgreSQL may settle on a generic plan that cannot see
# the arguments: for name searches that meant parallel scans of thousands of rows for a rare
# name, or a walk of a whole index. Planning the entry lookup again each time costs ~50 µs.
POSTGRES_SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


async def _keep_session(connection: Any) -> None:
    """The pool's reset on release: nothing beyond asyncpg's own rollback of an open transaction.

    asyncpg's default sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL`` on every release, a second round trip that made a pooled one-row read about 1.6 times
    as slow. It clears session state that this service never leaves behind: its one advisory
    lock is ``pg_advisory_xact_lock`` (released at commit or rollback), it opens no cursors
    outside transactions, never LISTENs, and changes settings only with ``SET LOCAL`` or the
    pool's own ``server_settings``. asyncpg still rolls back a transaction left open and drops
    its listeners before calling this. Anything that starts keeping session state on a pooled
    connection must undo it itself.
    """


class _Readers:
    """A few PostgreSQL connections of an engine's own, each lent to one read at a time.

    Cheaper than the pool's acquire and release (no queue object, shielded task, reset or
    timers: a list's pop and append), and, unlike the pool's connections, they keep
    PostgreSQL's default plan caching. Opened as needed, up to ``limit``; when all are lent a
    read waits for the next one given back, in the order the reads asked, rather than going
    elsewhere. The reader closes (:meth:`closed`) a connection whose read failed or was
    cancelled, as it may be mid-statement."""

    def __init__(self, dsn: str, limit: int) -> None:
        self.dsn = dsn
        self.limit = limit
        self.free: list[Any] = []  # open and not lent; the caller may pop one itself
        self.open = 0  # lent, free, or being opened
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.generation = 0  # one more at each stop: a connection lent before is closed

    async def lend(self) -> Any:
        """A free connection, a new one while fewer than ``limit`` are open, else the next
        one given back (in the order the reads asked)."""
        while True:
            if self.free:
                return self.free.pop()
            if self.open < self.limit:
                self.open += 1
                try:
                    return await asyncpg.connect(self.dsn)
                except BaseException:
                    self.closed()
                    raise
            waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            try:
                connection = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self.give_back(waiter.result())  # given, then cancelled: to the next
                raise
            if connection is not None:
                return connection
            # None: a connection was closed, so there is room to open another.

    def give_back(self, connection: Any) -> None:
        """``connection`` after a read that went through: to the first read waiting, else
        free."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self.free.append(connection)

    async def retire(self, connection: Any) -> None:
        """``connection``, lent before :meth:`stop`, after a read that went through."""
        self.closed()
        await connection.close()

    def closed(self) -> None:
        """A connection is gone: the next read waiting may open another."""
        self.open -= 1
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def read(self, statement: Callable[[Any], Awaitable[Any]]) -> Any:
        """What ``statement`` gives on a connection lent for it (one free at once, else
        :meth:`lend`): given back after, or closed if the read failed or was cancelled (it
        may be mid-statement), or if the engine stopped meanwhile."""
        # Taken before waiting for a connection: a read still waiting when the engine stops
        # closes the connection it then gets (or opens) rather than leaving it open after stop.
        generation = self.generation
        connection = self.free.pop() if self.free else await self.lend()
        try:
            found = await statement(connection)
        except BaseException:
            self.closed()
            connection.terminate()
            raise
        if generation == self.generation:
            self.give_back(connection)
        else:
            await self.retire(connection)
        return found

    async def stop(self) -> None:
        """Close the free connections; those lent are closed when given back."""
        self.generation += 1
        free, self.free = self.free, []
        self.open -= len(free)
        for connection in free:
            await connection.close()


class RegistryPostgresEngine(PostgresEngine):
    """PostgreSQL with a connection pool opened and closed with the application."""

    def __init__(self, dsn: str, pool_size: int) -> None:
        super().__init__(config={"dsn": dsn}, extensions=())
        self.pool_size = pool_size
        self._key_readers = _Readers(dsn, KEY_READERS)  # see fetch_one_by_key
        self._range_readers = _Readers(dsn, RANGE_READERS)  # see fetch_all_by_key
        self._batches: dict[str, _Batch] = {}  # waiting to be sent, by statement
        self._sending_queries: set[str] = set()  # statements with a batch on its way
        self._sending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        # Piccolo passes these through to asyncpg.create_pool.
        await self.start_connection_pool(
            min_size=1,
            max_size=self.pool_size,
            reset=_keep_session,
            server_settings=POSTGRES_SERVER_SETTINGS,
        )

    async def fetch_one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """See :func:`fetch_one`: in a transaction on its connection, else on a pooled one."""
        query = _compile(sql, "postgres")
        transaction = self.current_transaction.get()
        if transaction is not None:
            record = await transaction.connection.fetchrow(query, *args)
        elif self.pool is not None:
            async with self.pool.acquire() as connection:
                record = await connection.fetchrow(query, *args)
        else:
            record = next(iter(await self._run_in_new_connection(query, list(args))), None)
        return dict(record) if record is not None else None

    async def fetch_one_now(self, sql: str, *args: Any) -> dict[str, Any] | None:
        return await self.fetch_one(sql, *args)

    async def fetch_all_now(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        query = _compile(sql, "postgres")
        transaction = self.current_transaction.get()
        if transaction is not None:
            records = await transaction.connection.fetch(query, *args)
        elif self.pool is not None:
            async with self.pool.acquire() as connection:
                records = await connection.fetch(query, *args)
        else:
            records = await self._run_in_new_connection(query, list(args))
        return [dict(record) for record in records]

    async def fetch_one_by_key(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """See :func:`fetch_one_by_key`: on one of the engine's own key-read connections.

        The pool's acquire and release cost more than the one-row read itself (a queue, a
        shielded task for the release, its reset and timers), and every pooled connection
        plans each statement again (``POSTGRES_SERVER_SETTINGS``, ~50 µs of PostgreSQL's CPU
        for this read). These few connections are the engine's own, lent to one read at a time
        (:class:`_Readers`), and keep PostgreSQL's default plan caching: a read by a unique key
        has one plan whatever the key. Opened as needed, up to ``KEY_READERS``; when all are
        lent the read waits for one rather than going to the pool: under load the database's
        cores are the limit, and more statements at once would not add to them (under wrk's
        32 connections most lookups had overflowed to the pool, ~120 µs of PostgreSQL's CPU
        each against ~45 µs here). A read that fails (or is cancelled) closes its connection."""
        if self.current_transaction.get() is not None or self.pool is None:
            return await self.fetch_one(sql, *args)
        query = _compile(sql, "postgres")
        record = await self._key_readers.read(lambda connection: connection.fetchrow(query, *args))
        return dict(record) if record is not None else None

    async def fetch_all_by_key(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """See :func:`fetch_all_by_key`: on one of the engine's own range-read connections.

        As :meth:`fetch_one_by_key`'s, but ``RANGE_READERS`` of their own, so that searches
        and lookups do not wait on each other's: these keep PostgreSQL's default plan caching,
        and a read waits for one when all are lent rather than going to the pool, which would
        plan the statement again (for a name search, more of the backend's CPU than running
        it). A read that fails (or is cancelled) closes its connection."""
        if self.current_transaction.get() is not None or self.pool is None:
            return await self.fetch_all_now(sql, *args)
        query = _compile(sql, "postgres")
        records = await self._range_readers.read(lambda connection: connection.fetch(query, *args))
        return [dict(record) for record in records]

    async def fetch_one_batched(self, sql: str, *args: Any) -> dict[str, Any] | None:
        """See :func:`fetch_one_batched`: sent at once when no batch of the same statement is
        on its way to PostgreSQL; otherwise it waits with the others that come meanwhile, and
        they go together as soon as that one is answered (at most GROUP_COMMIT_MOST a batch)."""
        if self.current_transaction.get() is not None or self.pool is None:
            return await self.fetch_one(sql, *args)
        query = _compile(sql, "postgres")
        batch = self._batches.get(query)
        if batch is None:
            batch = self._batches[query] = _Batch(query)
        answer: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        batch.arguments.append(args)
        batch.answers.append(answer)
        if query not in self._sending_queries:
            self._send_batch(query)
        return await answer

    def _send_batch(self, query: str) -> None:
        """The waiting writes of ``query`` (GROUP_COMMIT_MOST at most; the rest wait for it)."""
        batch = self._batches.pop(query, None)
        if batch is None:
            return
        if len(batch.arguments) > GROUP_COMMIT_MOST:
            rest = _Batch(
                query, batch.arguments[GROUP_COMMIT_MOST:], batch.answers[GROUP_COMMIT_MOST:]
            )
            self._batches[query] = rest
            batch = _Batch(
                query, batch.arguments[:GROUP_COMMIT_MOST], batch.answers[:GROUP_COMMIT_MOST]
            )
        self._sending_queries.add(query)
        task = asyncio.ensure_future(self._run_batch(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    def _batch_answered(self, query: str) -> None:
        """A batch of ``query`` is answered: the writes that came meanwhile go now."""
        self._sending_queries.discard(query)
        if query in self._batches:
            self._send_batch(query)

    async def _run_batch(self, batch: _Batch) -> None:
        """The batch's statements in one pipelined exchange, atomic (asyncpg's ``fetchmany``:
        one implicit transaction, so one commit for them all). When PostgreSQL refuses it,
        nothing of it was stored: each statement is sent again alone, for its own answer."""
        try:
            await self._send_and_answer(batch)
        finally:
            self._batch_answered(batch.query)

    async def _send_and_answer(self, batch: _Batch) -> None:
        assert self.pool is not None
        try:
            async with self.pool.acquire() as connection:
                rows = await connection.fetchmany(batch.query, batch.arguments)
        except asyncpg.PostgresError as refused:
            if len(batch.arguments) == 1:
                _answer(batch.answers[0], error=refused)
                return
            for arguments, answer in zip(batch.arguments, batch.answers, strict=True):
                try:
                    async with self.pool.acquire() as connection:
                        row = await connection.fetchrow(batch.query, *arguments)
                except Exception as error:  # it is that write's own answer
                    _answer(answer, error=error)
                else:
                    _answer(answer, dict(row) if row is not None else None)
            return
        except BaseException as error:  # the connection failed: whether it was stored is unknown
            for answer in batch.answers:
                _answer(answer, error=error)
            if not isinstance(error, Exception):
                raise
            return
        if len(rows) != len(batch.arguments):  # only for statements answering one row each
            wrong = TypeError(
                f"a batched statement answered {len(rows)} rows for {len(batch.arguments)}"
            )
            for answer in batch.answers:
                _answer(answer, error=wrong)
            return
        for answer, row in zip(batch.answers, rows, strict=True):
            _answer(answer, dict(row))

    async def stop(self) -> None:
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        await self._key_readers.stop()
        await self._range_readers.stop()
        if self.pool is not None:
            await self.close_connection_pool()


@dataclass
class _Batch:
    """Writes of one statement waiting to be sent together (fetch_one_batched)."""

    query: str
    arguments: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    answers: list[asyncio.Future[dict[str, Any] | None]] = dataclasses.field(default_factory=list)


def _answer(
    answer: asyncio.Future[dict[str, Any] | None],
    row: dict[str, Any] | None = None,
    *,
    error: BaseException | None = None,
) -> None:
    if answer.done():  # its request went away meanwhile
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(row)


RegistryEngine = RegistrySQLiteEngine | RegistryPostgresEngine
# Connections a PostgreSQL engine keeps for reads by a unique key (fetch_one_by_key).
KEY_READERS = 4
# Connections a PostgreSQL engine keeps for short index-range reads (fetch_all_by_key).
RANGE_READERS = 4


def create_engine(settings: Settings) -> RegistryEngine:
    if settings.is_postgres:
        url = settings.resolved_database_url.replace("postgres://", "postgresql://", 1)
        return RegistryPostgresEngine(url, pool_size=settings.db_pool_size)
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return RegistrySQLiteEngine(str(path))


def registry_tables() -> list[type[Table]]:
    from registry.piccolo_app import APP_CONFIG

    return list(APP_CONFIG.table_classes)


def bind_engine(engine: Engine[Any], tables: Iterable[type[Table]] | None = None) -> None:
    """Point every table (and Piccolo's migration bookkeeping) at ``engine``.

    Piccolo looks an engine up from ``piccolo_conf`` once per table; the app binds its own so a
    process can be configured by :class:`Settings` alone, and tests can open both engines.
    """
    from registry import piccolo_conf

    piccolo_conf.DB = engine
    bound: list[type[Table]] = [Migration, *(tables if tables is not None else registry_tables())]
    for table in bound:
        table._meta.db = engine


@dataclass(frozen=True)
class MigrationState:
    applied: tuple[str, ...]
    pending: tuple[str, ...]
    initialised: bool

    @property
    def current(self) -> bool:
        return self.initialised and not self.pending


@functools.cache
def migration_ids() -> tuple[str, ...]:
    # Cached: Piccolo adds the folder to sys.path on every scan, and the files never change
    # while the process runs.
    from registry.piccolo_app import APP_CONFIG

    manager = BaseMigrationManager()
    modules = manager.get_migration_modules(APP_CONFIG.resolved_migrations_folder_path)
    return tuple(sorted(manager.get_migration_ids(modules)))


async def migration_state() -> MigrationState:
    """Which of the service's migrations the bound engine's database has applied."""
    from registry.piccolo_app import APP_CONFIG

    known = migration_ids()
    if not await Migration.table_exists().run():
        return MigrationState(applied=(), pending=tuple(known), initialised=False)
    rows = await Migration.select(Migration.name).where(Migration.app_name == APP_CONFIG.app_name)
    applied = {cast(str, row["name"]) for row in rows}
    return MigrationState(
        applied=tuple(sorted(applied)),
        pending=tuple(name for name in known if name not in applied),
        initialised=True,
    )


@contextlib.contextmanager
def without_sqlite_length_warning() -> Iterator[None]:
    """Piccolo warns, on SQLite, that a migration's change of a column's length is skipped: SQLite
    keeps no lengths (the schemas check them at the edge), so the warning tells a reader of
    ``make run`` nothing they can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*SQLITE doesn't support changes in length")
        yield


async def migrate(engine: Engine[Any]) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the ids applied."""
    from piccolo.apps.migrations.commands.forwards import ForwardsMigrationManager

    from registry.piccolo_app import APP_CONFIG

    bind_engine(engine)
    before = await migration_state()
    with without_sqlite_length_warning():
        result = await ForwardsMigrationManager(app_name=APP_CONFIG.app_name).run()
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
    return list(before.pending)


def is_sqlite_error(error: BaseException) -> bool:
    return isinstance(error, sqlite3.Error)


def bound_engine() -> Engine[Any]:
    # Asked several times by every request: the type is a string, not built each time.
    return cast("Engine[Any]", _piccolo_conf().DB)


@functools.cache
def _piccolo_conf() -> ModuleType:
    from registry import piccolo_conf  # imported late: it imports this module

    return piccolo_conf


async def fetch_one(sql: str, *args: Any) -> dict[str, Any] | None:
    """The first row of one read on the bound engine, or None: for the hottest lookups.

    ``sql`` takes ``{}`` for each argument, as Piccolo's ``raw`` does. This skips Piccolo's
    query machinery (Query objects, compiling, transaction checks, result conversion: some
    40-100 µs a query on PostgreSQL) and goes to the connection: the open
    transaction's, if there is one, so it sees that transaction's own writes; otherwise a pooled
    connection on PostgreSQL or the shared read connection on SQLite. Rows are mappings by
    column name (a dict).
    """
    engine = bound_engine()
    if not isinstance(engine, RegistrySQLiteEngine | RegistryPostgresEngine):
        raise TypeError(f"fetch_one needs a registry engine, not {type(engine).__name__}")
    return await engine.fetch_one(sql, *args)


async def fetch_one_now(sql: str, *args: Any) -> dict[str, Any] | None:
    """:func:`fetch_one` for a short read by an indexed unique key (one row, microseconds).

    On SQLite it runs in the calling thread on a read-only connection of its own (no hop to a
    worker thread and back, which costs more than such a read); inside a transaction, or while
    the file is locked, it runs as :func:`fetch_one`. On PostgreSQL it is :func:`fetch_one`.
    Never for a read that scans: it would stall every request in the event loop meanwhile.
    """
    engine = bound_engine()
    if not isinstance(engine, RegistrySQLiteEngine | RegistryPostgresEngine):
        raise TypeError(f"fetch_one_now needs a registry engine, not {type(engine).__name__}")
    return await engine.fetch_one_now(sql, *args)


async def fetch_all_now(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Every row of a short read bounded by an index (a few rows by a key, a page of search
    results, a count stopped at a limit), as :func:`fetch_one_now` reads one: on SQLite in the
    calling thread, outside a transaction."""
    engine = bound_engine()
    if not isinstance(engine, RegistrySQLiteEngine | RegistryPostgresEngine):
        raise TypeError(f"fetch_all_now needs a registry engine, not {type(engine).__name__}")
    return await engine.fetch_all_now(sql, *args)


@dataclass
class _Coming:
    engine: RegistrySQLiteEngine
    arrived: bool = False

    def arrive(self) -> None:
        """Counted once, whichever of its joining a group or its end comes first (a task it
        starts shares it, so it may join there)."""
        if not self.arrived:
            self.arrived = True
            self.engine.arrived()


# The write announced by write_coming in this task, until it joins a group.
_COMING: contextvars.ContextVar[_Coming | None] = contextvars.ContextVar("coming", default=None)


@contextlib.contextmanager
def write_coming() -> Iterator[None]:
    """Around a request's write, from before its body is read: on SQLite the open group commit
    waits for it to join (at most GROUP_COMMIT_WAIT), so that writes received together are
    committed together. Without it a group was committed two turns of the loop after its first
    member, before the requests still being received (each a few turns of the loop behind)
    could join: served, nearly every group held one write. Elsewhere (PostgreSQL, or before
    the engine starts) it does nothing: there :func:`fetch_one_batched` needs no announcing."""
    engine = bound_engine()
    if not isinstance(engine, RegistrySQLiteEngine) or engine._write_lock is None:
        yield
        return
    coming = _Coming(engine)
    token = _COMING.set(coming)
    engine.expect_write()
    try:
        yield
    finally:
        coming.arrive()  # if it never joined a group, the group need not wait for it
        _COMING.reset(token)


async def fetch_one_batched(sql: str, *args: Any) -> dict[str, Any] | None:
    """:func:`fetch_one` for a write of one statement that answers exactly one row (an
    ``INSERT ... RETURNING``), outside a transaction. On PostgreSQL, group commit: a write sent
    while another batch of the same statement is on its way waits, and the writes that came
    meanwhile go together, as one pipelined, atomic exchange, as soon as that one is answered
    (:meth:`RegistryPostgresEngine.fetch_one_batched`): one round trip and one commit, one flush
    of the WAL, for them all, and the service's CPU works on the next requests while PostgreSQL
    runs a batch. An audited write holds the audit chain's lock until its commit has flushed, so
    one at a time they were bounded by the disk's flushes (~1,600 a second here) however little
    else they cost. A write with nothing on its way is sent at once. On SQLite it is
    :func:`fetch_one`."""
    engine = bound_engine()
    if isinstance(engine, RegistryPostgresEngine):
        return await engine.fetch_one_batched(sql, *args)
    return await fetch_one(sql, *args)


async def fetch_one_by_key(sql: str, *args: Any) -> dict[str, Any] | None:
    """:func:`fetch_one_now` for a read by a unique key whose plan never depends on the key
    (an index lookup): on PostgreSQL, outside a transaction, on one of the engine's own
    key-read connections, without the pool (see :meth:`RegistryPostgresEngine.fetch_one_by_key`).
    On SQLite it is :func:`fetch_one_now`."""
    engine = bound_engine()
    if isinstance(engine, RegistryPostgresEngine):
        return await engine.fetch_one_by_key(sql, *args)
    return await fetch_one_now(sql, *args)


async def fetch_all_by_key(sql: str, *args: Any) -> list[dict[str, Any]]:
    """:func:`fetch_all_now` for a short index-range read whose plan never depends on its
    values (a key's range of an index that holds the order asked for): on PostgreSQL, outside
    a transaction, on range-read connections of the engine's own, lent as those of
    :func:`fetch_one_by_key` are (:class:`_Readers`), whose default plan caching settles on
    one generic plan after a few runs instead of planning every call as the pool does. Only
    for statements whose every plan is that range: a statement whose best plan depends on how
    many rows match belongs on :func:`fetch_all_now`. On SQLite it is
    :func:`fetch_all_now`."""
    engine = bound_engine()
    if isinstance(engine, RegistryPostgresEngine):
        return await engine.fetch_all_by_key(sql, *args)
    return await fetch_all_now(sql, *args)


def as_datetime(value: Any) -> datetime | None:
    """A timestamp as a :func:`fetch_one_now` row gives it: PostgreSQL's is a datetime, and
    SQLite's direct reads give the text Piccolo stored (``2026-11-28 09:30:00.123456+00:00``)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@functools.lru_cache(maxsize=256)
def _compile(sql: str, engine_type: str) -> str:
    """``sql`` with each ``{}`` made the engine's placeholder (``$1``, ``$2`` or ``?``)."""
    parts: list[str] = []
    count = 0
    for literal, field, _spec, _conversion in string.Formatter().parse(sql):
        parts.append(literal)
        if field is None:
            continue
        if field:
            raise ValueError(f"only {{}} placeholders are allowed, not {{{field}}}")
        count += 1
        parts.append(f"${count}" if engine_type == "postgres" else "?")
    return "".join(parts)


def transaction() -> Any:
    """One transaction on the bound engine; on SQLite it takes the write lock up front."""
    return bound_engine().transaction()


def short_transaction() -> Any:
    """:func:`transaction` for a request's own write of a few statements by indexed keys: on
    SQLite it runs in the event loop's thread (see :class:`ShortSQLiteTransaction`), so never
    for one that loops over many rows or waits on anything else; on PostgreSQL it is
    :func:`transaction`."""
    engine = bound_engine()
    if isinstance(engine, RegistrySQLiteEngine):
        return engine.short_transaction()
    return engine.transaction()


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (use with ``ESCAPE '\\'``): ``a_b`` means an
    underscore, not any character."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- what each engine needs to keep concurrent writers apart -------------------------------
# A write transaction on SQLite (BEGIN IMMEDIATE) already admits one writer at a time, so each
# of these is a no-op there; on PostgreSQL each takes the lock that makes the same guarantee.


def _on_postgres() -> bool:
    return bound_engine().engine_type == "postgres"


def on_postgres() -> bool:
    """Whether the bound engine is PostgreSQL (for a statement only it can run)."""
    return _on_postgres()


async def lock_row(table: type[Table], row_id: int) -> None:
    """Hold one row of ``table`` until the surrounding transaction ends, so two transactions
    that both read it and then decide cannot both act on what they read."""
    if _on_postgres():
        name = table._meta.tablename
        await table.raw(f"SELECT id FROM {name} WHERE id = {{}} FOR UPDATE", row_id)  # noqa: S608


def lock_key(kind: str, value: str) -> int:
    """A signed 64-bit key naming one thing (``kind``, ``value``: an account's email, a client
    address) for :func:`serialise_on`."""
    digest = hashlib.sha256(f"{kind}:{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def serialise_on(table: type[Table], lock_key: int) -> None:
    """Queue every transaction that calls this with ``lock_key`` behind the one holding it,
    until the surrounding transaction ends (a PostgreSQL advisory lock, taken through
    ``table``'s engine so it joins the open transaction)."""
    if _on_postgres():
        # Straight to the transaction's connection: every audited write takes this lock, and
        # Piccolo's raw query would build a query object for it each time.
        await fetch_one("SELECT pg_advisory_xact_lock({})", lock_key)


def skip_locked() -> str:
    """The clause that lets concurrent claimers of a ``SELECT … LIMIT n`` take different rows
    instead of waiting for each other (nothing on SQLite, where claimers queue)."""
    return " FOR UPDATE SKIP LOCKED" if _on_postgres() else ""
