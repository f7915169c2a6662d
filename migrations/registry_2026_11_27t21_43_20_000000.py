"""Fitness to practise: the allegation categories of the design, and the indexes its reads use.

- A concern names each category once (a unique index).
- The staff list filters open cases by stage and due date; the job looks cases up by due date.
- The categories (dishonesty, violence, …), which admins may add to, rename and retire
  afterwards at /admin/reference.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T21:43:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "conduct indexes and allegation categories"

CATEGORIES = [
    ("dishonesty", "Dishonesty"),
    ("violence", "Violence"),
    ("sexual_misconduct", "Sexual misconduct"),
    ("professional_boundaries", "Professional boundaries"),
    ("discrimination", "Discrimination"),
    ("competence", "Competence"),
    ("health", "Health"),
    ("conviction_or_caution", "Conviction or caution"),
    ("other", "Other"),
]
COMMON = [
    "CREATE UNIQUE INDEX conduct_concern_category_unique"
    " ON conduct_concern_category (concern, category)",
    "CREATE INDEX conduct_case_stage_due ON conduct_case (stage, due_on)",
]
COMMON_DOWN = [
    "DROP INDEX IF EXISTS conduct_concern_category_unique",
    "DROP INDEX IF EXISTS conduct_case_stage_due",
    "DELETE FROM conduct_allegation_category",
]


def _seed(table: str, rows: list[tuple[str, str]]) -> list[str]:
    return [
        f"INSERT INTO {table} (code, name, active, sort_order) "
        f"VALUES ('{code}', '{name}', true, {order})"
        for order, (code, name) in enumerate(rows, start=1)
    ]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run(statements: list[str]) -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in statements:
            await engine.run_ddl(statement)

    async def up() -> None:
        await run(COMMON + _seed("conduct_allegation_category", CATEGORIES))

    async def down() -> None:
        await run(COMMON_DOWN)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
