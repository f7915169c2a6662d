"""Public documents gain ``removed_on`` and ``removal_reason``: entries already off the register
get them from when their status last changed, as the service now writes them."""

import json
from datetime import UTC, datetime
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-27T16:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "public documents say when and how an entry left the register"

# As registry.register.schemas.REMOVAL_REASONS says them today; a migration keeps its own copy.
REASONS = {
    "lapsed": "The registration lapsed because it was not renewed",
    "voluntarily_removed": "The practitioner asked to leave the register",
    "removed": "Removed from the register by a fitness to practise decision",
}
BATCH = 1_000


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def up() -> None:
        engine = engine_finder()
        assert engine is not None
        after = 0
        while True:
            rows = await engine.run_querystring(
                QueryString(
                    "SELECT id, status, status_changed_at, public_document FROM register_entry"
                    " WHERE id > {} ORDER BY id LIMIT {}",
                    after,
                    BATCH,
                )
            )
            for row in rows:
                await _rewrite(engine, row)
            if len(rows) < BATCH:
                return
            after = rows[-1]["id"]

    async def down() -> None:
        return None  # the extra keys are harmless to the code before this one

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager


async def _rewrite(engine: Any, row: dict[str, Any]) -> None:
    document = json.loads(str(row["public_document"]))
    if "removed_on" in document:
        return
    reason = REASONS.get(str(row["status"]))
    changed = row["status_changed_at"]
    if isinstance(changed, str):  # SQLite hands timestamps back as text
        changed = datetime.fromisoformat(changed)
    document["removed_on"] = changed.astimezone(UTC).date().isoformat() if reason else None
    document["removal_reason"] = reason
    await engine.run_querystring(
        QueryString(
            "UPDATE register_entry SET public_document = {} WHERE id = {}",
            json.dumps(document, separators=(",", ":")),
            row["id"],
        )
    )
