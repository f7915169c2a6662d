"""The service's single Piccolo app: every table, one linear history in ``migrations/``."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from registry.accounts.tables import ACCOUNT_TABLES
from registry.audit.tables import AUDIT_TABLES
from registry.core.tables import CORE_TABLES
from registry.notifications.tables import NOTIFICATION_TABLES
from registry.register.tables import REGISTER_TABLES

MIGRATIONS_FOLDER = Path(__file__).resolve().parent.parent / "migrations"

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=str(MIGRATIONS_FOLDER),
    table_classes=[
        *CORE_TABLES,
        *AUDIT_TABLES,
        *ACCOUNT_TABLES,
        *NOTIFICATION_TABLES,
        *REGISTER_TABLES,
    ],
    migration_dependencies=[],
    commands=[],
)
