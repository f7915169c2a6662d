"""conduct_raise_if_simple: a concern's whole write in one call (PostgreSQL).

``registry.conduct.concerns.raise_concern`` on PostgreSQL: reads the kinds of concern chosen and
the practitioner named, counts the attempt against its address's limit, finds the practitioner's
open case (or opens one) and writes the concern, its kinds, its attachments, the case's event,
the acknowledgement email and the audit entry (through ``audit_append``), in one round trip and
one transaction. The audit entry is hashed by the caller (``registry.audit.service.hash_pieces``)
twice, as it reads when the practitioner is found on the register and when not (its changes say
which): the function takes the one that holds, and the case's reference as the target. It writes only when it can decide everything as the step-by-step path would;
otherwise it writes nothing and says why (``outcome``), and the caller takes that path, which
refuses, or writes, exactly as before:

- ``unknown``: a kind of concern chosen is unknown or retired (the path names it);
- ``limited``: the attempt would be one too many this hour (the path keeps the attempt and the
  refusal's audit entry, as it always has);
- ``busy``: a lock it needs is held by another transaction: the address's, the practitioner's
  entry, the open case or an attached file. It never waits for one: a batch of these calls is
  one transaction (``registry.db.fetch_one_batched``) that holds the audit chain's lock from its
  first entry on, and waiting then for a lock whose holder waits for the chain's lock would be a
  deadlock. The only lock it waits for is the chain's (in ``audit_append``), as every audited
  write does.
- ``written``: done; the row names the case (its id and reference, and whether it is new).

A function rather than a statement sent each time, as ``cpd_record_if_simple``: its plans are
kept for the session (the pool's connections plan every statement afresh).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "conduct_raise_if_simple: a concern's reads, limit and writes in one call"

RAISE_IF_SIMPLE = """
CREATE OR REPLACE FUNCTION conduct_raise_if_simple(
    p_codes text[], p_number text,
    p_limit_key text, p_lock_key bigint, p_since timestamptz, p_most integer,
    p_reference text, p_received text, p_closed text, p_moment timestamptz,
    p_about_number text, p_about_name text, p_about_workplace text, p_what_happened text,
    p_happened_on date, p_happened_when text, p_relationship text, p_raiser_name text,
    p_raiser_email text, p_raiser_phone text, p_consent_to_share boolean, p_raised_by integer,
    p_attachments integer[],
    p_event_by integer, p_event_label text, p_event_at timestamptz, p_event_details text,
    p_email_recipient text, p_email_body text, p_email_key text, p_email_at timestamptz,
    p_email_template text, p_email_subject text,
    p_occurred_at timestamptz, p_actor_id integer, p_actor_label text, p_action text,
    p_target_type text, p_client_address text, p_request_id text, p_mid text, p_tail text,
    p_changes_identified text, p_head_identified text,
    p_changes_unidentified text, p_head_unidentified text
) RETURNS TABLE (
    outcome text, case_id integer, case_reference text, new_case boolean, identified boolean
) LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_categories integer[];
    v_entry integer;
    v_case integer;
    v_case_reference text;
    v_new boolean := false;
    v_sent bigint;
    v_concern integer;
BEGIN
    SELECT array_agg(c.id ORDER BY chosen.n) INTO v_categories
    FROM unnest(p_codes) WITH ORDINALITY AS chosen (code, n)
    JOIN conduct_allegation_category c ON c.code = chosen.code AND c.active;
    IF coalesce(cardinality(v_categories), 0) <> cardinality(p_codes) THEN
        RETURN QUERY SELECT 'unknown', NULL::integer, NULL::text, NULL::boolean, NULL::boolean;
        RETURN;
    END IF;
    IF p_number IS NOT NULL THEN
        SELECT e.id INTO v_entry FROM register_entry e WHERE e.registration_number = p_number;
    END IF;
    -- Every lock first, none waited for; nothing is written until all are held.
    IF p_limit_key IS NOT NULL AND NOT pg_try_advisory_xact_lock(p_lock_key) THEN
        RETURN QUERY SELECT 'busy', NULL::integer, NULL::text, NULL::boolean, NULL::boolean;
        RETURN;
    END IF;
    IF v_entry IS NOT NULL THEN
        PERFORM 1 FROM register_entry e WHERE e.id = v_entry FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'busy', NULL::integer, NULL::text, NULL::boolean, NULL::boolean;
            RETURN;
        END IF;
        SELECT c.id, c.reference INTO v_case, v_case_reference FROM conduct_case c
        WHERE c.entry = v_entry AND c.stage <> p_closed ORDER BY c.id LIMIT 1;
        IF v_case IS NOT NULL THEN
            PERFORM 1 FROM conduct_case c WHERE c.id = v_case FOR KEY SHARE SKIP LOCKED;
            IF NOT FOUND THEN
                RETURN QUERY SELECT 'busy', NULL::integer, NULL::text, NULL::boolean,
                    NULL::boolean;
                RETURN;
            END IF;
        END IF;
    END IF;
    IF cardinality(p_attachments) > 0 AND (
        SELECT count(*) FROM (
            SELECT 1 FROM register_evidence_file f WHERE f.id = ANY(p_attachments)
            FOR KEY SHARE SKIP LOCKED
        ) AS held
    ) <> cardinality(p_attachments) THEN
        RETURN QUERY SELECT 'busy', NULL::integer, NULL::text, NULL::boolean, NULL::boolean;
        RETURN;
    END IF;
    IF p_limit_key IS NOT NULL THEN
        SELECT count(*) INTO v_sent FROM conduct_concern_attempt a
        WHERE a.client_address = p_limit_key AND a.attempted_at > p_since;
        IF v_sent + 1 > p_most THEN
            RETURN QUERY SELECT 'limited', NULL::integer, NULL::text, NULL::boolean,
                NULL::boolean;
            RETURN;
        END IF;
        INSERT INTO conduct_concern_attempt (client_address, attempted_at)
        VALUES (p_limit_key, p_moment);
    END IF;
    IF v_case IS NULL THEN
        INSERT INTO conduct_case (reference, entry, needs_identifying, stage, opened_at,
            stage_changed_at)
        VALUES (p_reference, v_entry, v_entry IS NULL, p_received, p_moment, p_moment)
        RETURNING id INTO v_case;
        v_case_reference := p_reference;
        v_new := true;
    END IF;
    INSERT INTO conduct_concern (reference, "case", about_number, about_name, about_workplace,
        what_happened, happened_on, happened_when, relationship, raiser_name, raiser_email,
        raiser_phone, consent_to_share, raised_by, raised_at)
    VALUES (p_reference, v_case, p_about_number, p_about_name, p_about_workplace,
        p_what_happened, p_happened_on, p_happened_when, p_relationship, p_raiser_name,
        p_raiser_email, p_raiser_phone, p_consent_to_share, p_raised_by, p_moment)
    RETURNING id INTO v_concern;
    INSERT INTO conduct_concern_category (concern, category)
    SELECT v_concern, chosen.id FROM unnest(v_categories) WITH ORDINALITY AS chosen (id, n)
    ORDER BY chosen.n;
    INSERT INTO conduct_case_document ("case", concern, file, kind, disclosed, added_by,
        added_at)
    SELECT v_case, v_concern, chosen.id, 'attachment', false, p_raised_by, p_moment
    FROM unnest(p_attachments) WITH ORDINALITY AS chosen (id, n) ORDER BY chosen.n;
    INSERT INTO conduct_case_event ("case", event, from_stage, to_stage, by_user, actor_label,
        at, reason, details)
    VALUES (v_case, CASE WHEN v_new THEN 'concern_received' ELSE 'concern_linked' END, '',
        CASE WHEN v_new THEN p_received ELSE '' END, p_event_by, p_event_label, p_event_at, '',
        p_event_details);
    IF p_email_recipient IS NOT NULL THEN
        INSERT INTO notification_outbox (kind, recipient, body, idempotency_key,
            next_attempt_at, created_at, template, subject)
        VALUES ('email', p_email_recipient, p_email_body, p_email_key, p_email_at, p_email_at,
            p_email_template, p_email_subject)
        ON CONFLICT (idempotency_key) DO NOTHING;
    END IF;
    PERFORM audit_append(p_occurred_at, p_actor_id, p_actor_label, p_action, p_target_type,
        v_case_reference,
        CASE WHEN v_entry IS NULL THEN p_changes_unidentified ELSE p_changes_identified END,
        p_client_address, p_request_id,
        CASE WHEN v_entry IS NULL THEN p_head_unidentified ELSE p_head_identified END,
        p_mid, p_tail);
    RETURN QUERY SELECT 'written', v_case, v_case_reference, v_new, v_entry IS NOT NULL;
END
$$
"""
DROP_RAISE_IF_SIMPLE = (
    "DROP FUNCTION IF EXISTS conduct_raise_if_simple(text[], text, text, bigint, timestamptz,"
    " integer, text, text, text, timestamptz, text, text, text, text, date, text, text, text,"
    " text, text, boolean, integer, integer[], integer, text, timestamptz, text, text, text,"
    " text, timestamptz, text, text, timestamptz, integer, text, text, text, text, text, text,"
    " text, text, text, text, text)"
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def up() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            await engine.run_ddl(RAISE_IF_SIMPLE)

    async def down() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            await engine.run_ddl(DROP_RAISE_IF_SIMPLE)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
