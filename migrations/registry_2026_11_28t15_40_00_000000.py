"""The one-call writes' kept plans never scan a whole table (PostgreSQL).

``cpd_record_if_simple`` and ``conduct_raise_if_simple`` run with ``plan_cache_mode =
force_generic_plan``: each statement in them, and each foreign key check their inserts fire, is
planned once for the connection and kept. A plan made while a table is nearly empty (a new
register; or any table before statistics are gathered) reads it whole, cheapest then, and keeps
reading it whole as it grows: served, the concern's checks of its case, its concern and its
address's attempts read some 138 million rows over 12,000 concerns (``pg_stat_user_tables``:
seq_scan on conduct_case twice a concern, idx_scan 0), and concerns a second fell from ~2,900
to ~250 within a minute. Every read in these functions, and every key a check looks up, has an
index: ``enable_seqscan = off`` for the functions alone makes their kept plans use it whatever
the table held when they were made.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one-call writes: their kept plans use the indexes"

FUNCTIONS = (
    "cpd_record_if_simple(integer, date, date, integer, text[], text[], text, integer, text,"
    " boolean, text, text, text, boolean, boolean, text, timestamptz, timestamptz, integer,"
    " text, text, text, text, text, text, text, text, text, text, text)",
    "conduct_raise_if_simple(text[], text, text, bigint, timestamptz, integer, text, text,"
    " text, timestamptz, text, text, text, text, date, text, text, text, text, text, boolean,"
    " integer, integer[], integer, text, timestamptz, text, text, text, text, timestamptz,"
    " text, text, timestamptz, integer, text, text, text, text, text, text, text, text, text,"
    " text, text)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def up() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            for function in FUNCTIONS:
                await engine.run_ddl(f"ALTER FUNCTION {function} SET enable_seqscan = off")

    async def down() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            for function in FUNCTIONS:
                await engine.run_ddl(f"ALTER FUNCTION {function} RESET enable_seqscan")

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
