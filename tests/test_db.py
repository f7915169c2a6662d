"""registry.db: the PostgreSQL pool's connection settings."""

from __future__ import annotations

from pathlib import Path

from registry.db import RegistryPostgresEngine, create_engine
from tests.support import make_settings


async def test_pooled_postgres_connections_plan_each_query_and_drop_open_transactions(
    tmp_path: Path,
) -> None:
    engine = create_engine(make_settings("postgres", tmp_path))
    assert isinstance(engine, RegistryPostgresEngine)
    await engine.start()
    try:
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
    finally:
        await engine.stop()
