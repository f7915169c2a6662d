"""The audit trail's append as one PostgreSQL function (nothing on SQLite).

``audit_append`` takes the chain's lock, reads the newest entry's hash, hashes the new entry and
inserts it: the lock, the read and the insert in one round trip instead of three. It is VOLATILE
(the default), so under READ COMMITTED each statement inside it takes a fresh snapshot
("VOLATILE functions obtain a fresh snapshot at the start of each query they execute", the
PostgreSQL manual's "Function Volatility Categories"): the read of the newest hash runs after
the lock is held and sees the entry of whoever held it before, so the chain cannot fork.

The caller hashes what it can (``registry.audit.service.hash_pieces``): the canonical JSON of
the entry around the two values the database decides, the time (taken once the lock is held,
unless the caller gives one) and the target id (an activity's id when the entry is written in
the same statement as the activity). sha256 over ``prev_hash || head || time || mid ||
target_id || tail`` is then the same hash :func:`registry.audit.service.entry_hash` computes,
which ``registry audit verify`` recomputes for every entry.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T04:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_append: the audit chain's lock, last hash and insert in one call (PostgreSQL)"

# 0x7265676973747279, "registry" in ASCII: registry.audit.service.APPEND_LOCK_KEY.
APPEND_LOCK_KEY = 8243108395577799289
AUDIT_APPEND = f"""
CREATE OR REPLACE FUNCTION audit_append(
    p_occurred_at timestamptz, p_actor_id integer, p_actor_label text, p_action text,
    p_target_type text, p_target_id text, p_changes text, p_client_address text,
    p_request_id text, p_head text, p_mid text, p_tail text
) RETURNS TABLE (
    entry_id integer, entry_occurred_at timestamptz, entry_prev_hash text, entry_hash text
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    previous text;
    moment timestamptz;
    digest text;
BEGIN
    PERFORM pg_advisory_xact_lock({APPEND_LOCK_KEY});
    SELECT a.hash INTO previous FROM audit_entry a ORDER BY a.id DESC LIMIT 1;
    previous := coalesce(previous, repeat('0', 64));
    moment := coalesce(p_occurred_at, clock_timestamp());
    digest := encode(sha256(convert_to(
        previous || p_head
        || to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || p_mid || p_target_id || p_tail, 'UTF8')), 'hex');
    RETURN QUERY INSERT INTO audit_entry AS a (
        occurred_at, actor_id, actor_label, action, target_type, target_id, changes,
        client_address, request_id, prev_hash, hash
    ) VALUES (
        moment, p_actor_id, p_actor_label, p_action, p_target_type, p_target_id, p_changes,
        p_client_address, p_request_id, previous, digest
    ) RETURNING a.id, a.occurred_at, a.prev_hash::text, a.hash::text;
END
$$
"""
DROP_AUDIT_APPEND = (
    "DROP FUNCTION IF EXISTS audit_append(timestamptz, integer, text, text, text, text, text,"
    " text, text, text, text, text)"
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def up() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            await engine.run_ddl(AUDIT_APPEND)

    async def down() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            await engine.run_ddl(DROP_AUDIT_APPEND)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
