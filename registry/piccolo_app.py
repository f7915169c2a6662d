"""The service's single Piccolo app: every domain's tables, one history in ``migrations/``."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from registry.core.domain import tables
from registry.core.tables import CORE_TABLES
from registry.domains import DOMAINS

MIGRATIONS_FOLDER = Path(__file__).resolve().parent.parent / "migrations"

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=str(MIGRATIONS_FOLDER),
    table_classes=[*CORE_TABLES, *tables(DOMAINS)],
    migration_dependencies=[],
    commands=[],
)
