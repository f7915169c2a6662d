"""Many rows in one statement, for the paths that write in batches (the register import), and
many values as one parameter, for the reads that take a long list (a bulk check's 10,000).

Piccolo builds one statement per row through its query machinery, which costs more than the
insert itself; and on SQLite every statement is a hop to aiosqlite's thread and back. Here a
batch of rows goes to the driver as multi-row ``INSERT … VALUES (…), (…)`` statements on the open
transaction's connection (measured faster than ``executemany`` on both engines once the ids are
wanted back, and the same statement serves both). Values go to the driver as they are: the
driver's own adapters (Piccolo registers SQLite's for dates and times) store them exactly as a
Piccolo insert would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
from piccolo.table import Table

from registry.db import bound_engine

_JSON = msgspec.json.Encoder()


def any_of(values: Sequence[Any]) -> tuple[str, Any]:
    """``values`` as one bound parameter: the condition to put after a column (with one ``{}``
    placeholder) and the value to bind to it. An array on PostgreSQL (``= ANY``), JSON text on
    SQLite (``json_each``): one value whatever the length, so no chunking, and nothing for
    the ORM to convert value by value or for PostgreSQL to plan afresh for every length."""
    if bound_engine().engine_type == "postgres":
        return "= ANY({})", list(values)
    try:  # msgspec writes JSON json_each reads alike, ten times faster (10,000 ids: 0.5 ms)
        text = _JSON.encode(list(values)).decode()
    except (TypeError, UnicodeEncodeError):  # text with a lone surrogate, which json escapes
        text = json.dumps(list(values))
    return "IN (SELECT value FROM json_each({}))", text


# Both drivers take up to 32,766 parameters a statement (SQLite since 3.32, asyncpg 32,767).
MAX_PARAMETERS = 32_000
# Rows a statement: at most this many, and always a power of two. Both drivers keep each
# statement they prepare (sqlite3 128 a connection, asyncpg 100), by its text, and a statement of
# a few thousand parameters holds hundreds of kilobytes prepared: when every batch's count of
# rows made a statement of its own, an import of 20,000 rows kept ~100 MB of them (peak RSS
# 145 -> 248 MB). Cut into powers of two, a table has a handful of statements, prepared once.
MOST_ROWS = 256


async def insert_rows(
    table: type[Table],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Insert ``rows`` (values in the order of ``columns``) into ``table`` in the open
    transaction; the ``returning`` columns of every row inserted (in no promised order: match
    them by value, never by position)."""
    if not rows:
        return []
    engine = bound_engine()
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("insert_rows writes in the caller's transaction: open one first")
    postgres = engine.engine_type == "postgres"
    width = len(columns)
    per_statement = min(MOST_ROWS, max(1, MAX_PARAMETERS // width))
    # Names from the code's own table and column lists, never from input.
    head = f"INSERT INTO {table._meta.tablename} ({', '.join(columns)}) VALUES "  # noqa: S608
    tail = f" RETURNING {', '.join(returning)}" if returning else ""
    found: list[dict[str, Any]] = []
    for start, length in pieces(len(rows), per_statement):
        chunk = rows[start : start + length]
        if postgres:
            marks = ", ".join(
                "(" + ", ".join(f"${n * width + c + 1}" for c in range(width)) + ")"
                for n in range(len(chunk))
            )
        else:
            marks = ", ".join(["(" + ", ".join("?" * width) + ")"] * len(chunk))
        values = [value for row in chunk for value in row]
        sql = head + marks + tail
        connection = transaction.connection
        if postgres:
            if returning:
                found.extend(dict(r) for r in await connection.fetch(sql, *values))
            else:
                await connection.execute(sql, *values)
        else:
            found.extend(await connection.execute_fetchall(sql, values))
    return found


def pieces(count: int, most: int) -> Iterator[tuple[int, int]]:
    """``count`` rows as (start, length) pieces, largest first, each length a power of two no
    larger than ``most``: whatever the count, a statement of one of a few lengths."""
    size = 1 << (most.bit_length() - 1)
    start = 0
    while start < count:
        while size > count - start:
            size >>= 1
        yield start, size
        start += size


async def fetch_all(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Every row of one read in the open transaction (``{}`` for each argument), on its
    connection: for a batch's reads of many rows by id."""
    engine = bound_engine()
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("fetch_all reads in the caller's transaction: open one first")
    from registry.db import _compile

    if engine.engine_type == "postgres":
        return [
            dict(r) for r in await transaction.connection.fetch(_compile(sql, "postgres"), *args)
        ]
    return list(await transaction.connection.execute_fetchall(_compile(sql, "sqlite"), args))


def marks(count: int) -> str:
    """``{}, {}, …`` for an ``IN (…)`` of ``count`` values."""
    return ", ".join(["{}"] * count)
