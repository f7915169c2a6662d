"""The register's indexes, search and reference data.

- (entry, role) is unique, by an index (Piccolo's ALTER TABLE constraints fail on SQLite).
- Name search: on SQLite an FTS5 index kept by triggers over ``search_name``; on PostgreSQL a
  GIN index over its ``simple`` tsvector. Both answer prefix queries ("smi jo" finds
  "Smith, Joanna") without reading the whole table.
- The designated roles, the 12 probation regions and the qualification types, which admins may
  edit afterwards, and the registration number sequence.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T11:21:54:000000"
VERSION = "1.38.0"
DESCRIPTION = "register indexes, search and reference data"

ROLES = [
    ("probation_officer", "Probation Officer"),
    ("probation_services_officer", "Probation Services Officer"),
    ("senior_probation_officer", "Senior Probation Officer"),
    ("trainee_probation_officer", "Trainee Probation Officer (PQiP learner)"),
]
REGIONS = [
    ("north_east", "North East"),
    ("north_west", "North West"),
    ("yorkshire_humber", "Yorkshire and the Humber"),
    ("greater_manchester", "Greater Manchester"),
    ("east_midlands", "East Midlands"),
    ("west_midlands", "West Midlands"),
    ("east_of_england", "East of England"),
    ("london", "London"),
    ("kent_surrey_sussex", "Kent, Surrey and Sussex"),
    ("south_central", "South Central"),
    ("south_west", "South West"),
    ("wales", "Wales"),
]
QUALIFICATIONS = [
    ("pqip", "Professional Qualification in Probation (PQiP)"),
    ("pqf", "Probation Qualifications Framework (PQF)"),
    ("dips", "Diploma in Probation Studies (DipPS)"),
    ("cqsw", "Certificate of Qualification in Social Work (CQSW)"),
    ("other", "Other recognised qualification"),
]

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE register_search USING fts5(search_name, content='register_practitioner',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER register_search_insert AFTER INSERT ON register_practitioner BEGIN"
    " INSERT INTO register_search(rowid, search_name) VALUES (new.id, new.search_name); END",
    "CREATE TRIGGER register_search_delete AFTER DELETE ON register_practitioner BEGIN"
    " INSERT INTO register_search(register_search, rowid, search_name)"
    " VALUES ('delete', old.id, old.search_name); END",
    "CREATE TRIGGER register_search_update AFTER UPDATE OF search_name ON register_practitioner"
    " BEGIN INSERT INTO register_search(register_search, rowid, search_name)"
    " VALUES ('delete', old.id, old.search_name);"
    " INSERT INTO register_search(rowid, search_name) VALUES (new.id, new.search_name); END",
]
SQLITE_SEARCH_DOWN = [
    "DROP TRIGGER IF EXISTS register_search_insert",
    "DROP TRIGGER IF EXISTS register_search_delete",
    "DROP TRIGGER IF EXISTS register_search_update",
    "DROP TABLE IF EXISTS register_search",
]
POSTGRES_SEARCH = [
    "CREATE INDEX register_practitioner_search ON register_practitioner"
    " USING gin (to_tsvector('simple', search_name))",
]
POSTGRES_SEARCH_DOWN = ["DROP INDEX IF EXISTS register_practitioner_search"]
COMMON = [
    "CREATE UNIQUE INDEX register_entry_role_unique ON register_entry_role (entry, role)",
    "CREATE UNIQUE INDEX register_renewal_year ON register_renewal (entry, registration_year)",
    "CREATE INDEX register_entry_status_region ON register_entry (status, region)",
    "INSERT INTO register_number_sequence (name, next_value) VALUES ('registration', 100001)",
]
COMMON_DOWN = [
    "DROP INDEX IF EXISTS register_entry_role_unique",
    "DROP INDEX IF EXISTS register_renewal_year",
    "DROP INDEX IF EXISTS register_entry_status_region",
    "DELETE FROM register_number_sequence WHERE name = 'registration'",
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
        engine = engine_finder()
        assert engine is not None
        search = SQLITE_SEARCH if engine.engine_type == "sqlite" else POSTGRES_SEARCH
        await run(
            COMMON
            + search
            + _seed("register_role", ROLES)
            + _seed("register_region", REGIONS)
            + _seed("register_qualification_type", QUALIFICATIONS)
        )

    async def down() -> None:
        engine = engine_finder()
        assert engine is not None
        search = SQLITE_SEARCH_DOWN if engine.engine_type == "sqlite" else POSTGRES_SEARCH_DOWN
        tables = ["register_qualification_type", "register_region", "register_role"]
        await run(search + COMMON_DOWN + [f"DELETE FROM {table}" for table in tables])

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
