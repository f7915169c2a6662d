"""Two indexes another already covers, dropped: every insert paid for them and no read needs them.

``conduct_case_stage`` is the prefix of ``conduct_case_stage_due`` (stage, due_on), and
``conduct_concern_category_concern`` of ``conduct_concern_category_unique`` (concern, category):
each read by the one column (a case list by stage, a concern's kinds, the cascade from a concern
removed) uses the wider index as it used the narrow one, on both engines. Every concern raised
writes a case or a category row, so each insert now updates one index fewer.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey, Varchar

ID = "2026-11-28T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop conduct_case_stage and conduct_concern_category_concern (covered by others)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.alter_column(
        table_class_name="Case",
        tablename="conduct_case",
        column_name="stage",
        db_column_name="stage",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )
    manager.alter_column(
        table_class_name="ConcernCategory",
        tablename="conduct_concern_category",
        column_name="concern",
        db_column_name="concern",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )
    return manager
