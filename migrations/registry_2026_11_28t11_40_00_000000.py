"""cpd_record_if_simple: a practitioner's CPD activity read and written in one call (PostgreSQL).

``registry.cpd.activities.record`` on PostgreSQL: reads the owner of an account's CPD record
(whether the activity's registration year was declared at renewal, the rule pack in force on its
date) and the practice areas and standards named, and writes the activity, its links and its
audit entry (through ``audit_append``) only when every check holds: an owner, the year not
declared, a pack in force, the date neither before the owner joined nor after today, every item
named known and active. It answers one row: the owner (NULLs if none), the items as JSON rows and
the new activity's id (NULL if nothing was written, when the caller runs its checks on what was
read, as before).

A function rather than a statement sent each time: the service's pooled connections plan every
statement afresh (``plan_cache_mode = force_custom_plan``), ~400 µs of PostgreSQL's CPU for this
one, against a plan kept for the session here (``SET plan_cache_mode`` for the function alone).

The audit entry is hashed by the caller as ever (``registry.audit.service.hash_pieces``), with a
mark where the pack's id goes: the changes and the hashed text come in two pieces each, around
the mark, and the id read here goes between them (an id is digits, spelled as itself in JSON).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T11:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "cpd_record_if_simple: a CPD activity's checks read and its write in one call"

RECORD_IF_SIMPLE = """
CREATE OR REPLACE FUNCTION cpd_record_if_simple(
    p_year integer, p_done_on date, p_today date, p_account integer,
    p_areas text[], p_standards text[],
    p_title text, p_quarters integer, p_activity_type text, p_participatory boolean,
    p_what_happened text, p_what_learned text, p_practice_changed text, p_reflective boolean,
    p_peer_reflection boolean, p_peer_role text, p_at timestamptz,
    p_occurred_at timestamptz, p_actor_id integer, p_actor_label text, p_action text,
    p_target_type text, p_changes_before text, p_changes_after text, p_client_address text,
    p_request_id text, p_head_before text, p_head_after text, p_mid text, p_tail text
) RETURNS TABLE (
    entry_id integer, entry_practitioner integer, entry_registered_since date,
    entry_declared boolean, entry_pack integer, entry_items json, written_id integer
) LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    WITH owner_row AS (
        SELECT e.id, e.practitioner, e.registered_since,
            EXISTS (SELECT 1 FROM register_renewal r
                WHERE r.entry = e.id AND r.registration_year = p_year) AS declared,
            (SELECT p.id FROM cpd_rule_pack p WHERE p.effective_from <= p_done_on
                ORDER BY p.effective_from DESC LIMIT 1) AS pack
        FROM register_entry e JOIN register_practitioner pr ON pr.id = e.practitioner
        WHERE pr.account = p_account LIMIT 1
    ), items AS (
        SELECT 'practice_area' AS kind, a.id, a.code, a.name, a.sort_order, a.active
        FROM cpd_practice_area a WHERE a.code = ANY(p_areas)
        UNION ALL
        SELECT 'standard', s.id, s.code, s.name, s.sort_order, s.active
        FROM cpd_standard s WHERE s.code = ANY(p_standards)
    ), activity AS (
        INSERT INTO cpd_activity (
            practitioner, rule_pack, title, done_on, quarters, activity_type, participatory,
            what_happened, what_learned, practice_changed, reflective, peer_reflection,
            peer_role, created_at, updated_at
        )
        SELECT o.practitioner, o.pack, p_title, p_done_on, p_quarters, p_activity_type,
            p_participatory, p_what_happened, p_what_learned, p_practice_changed,
            p_reflective, p_peer_reflection, p_peer_role, p_at, p_at
        FROM owner_row o
        WHERE NOT o.declared AND o.pack IS NOT NULL
            AND o.registered_since <= p_done_on AND p_done_on <= p_today
            AND (SELECT count(*) FROM items WHERE items.active)
                = cardinality(p_areas) + cardinality(p_standards)
        RETURNING cpd_activity.id, cpd_activity.rule_pack
    ), area_links AS (
        INSERT INTO cpd_activity_practice_area (activity, practice_area)
        SELECT activity.id, items.id FROM activity, items WHERE items.kind = 'practice_area'
        ORDER BY array_position(p_areas, items.code::text)
    ), standard_links AS (
        INSERT INTO cpd_activity_standard (activity, standard)
        SELECT activity.id, items.id FROM activity, items WHERE items.kind = 'standard'
        ORDER BY array_position(p_standards, items.code::text)
    ), written AS (
        SELECT activity.id FROM activity, audit_append(
            p_occurred_at, p_actor_id, p_actor_label, p_action, p_target_type,
            activity.id::text,
            p_changes_before || activity.rule_pack::text || p_changes_after,
            p_client_address, p_request_id,
            p_head_before || activity.rule_pack::text || p_head_after,
            p_mid, p_tail)
    )
    SELECT o.id, o.practitioner, o.registered_since, o.declared, o.pack,
        (SELECT json_agg(json_build_object('kind', i.kind, 'id', i.id, 'code', i.code,
            'name', i.name, 'sort_order', i.sort_order, 'active', i.active)) FROM items i),
        (SELECT written.id FROM written)
    FROM (VALUES (1)) AS one (x) LEFT JOIN owner_row o ON true;
END
$$
"""
DROP_RECORD_IF_SIMPLE = (
    "DROP FUNCTION IF EXISTS cpd_record_if_simple(integer, date, date, integer, text[], text[],"
    " text, integer, text, boolean, text, text, text, boolean, boolean, text, timestamptz,"
    " timestamptz, integer, text, text, text, text, text, text, text, text, text, text, text)"
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def up() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            await engine.run_ddl(RECORD_IF_SIMPLE)

    async def down() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            await engine.run_ddl(DROP_RECORD_IF_SIMPLE)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
