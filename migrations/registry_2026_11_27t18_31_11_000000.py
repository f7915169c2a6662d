"""CPD's indexes, reference data and default rule pack.

- An activity log is read by practitioner and date range, through one index.
- An activity names each practice area and standard once (unique indexes).
- The five standards of CPD (HCPC's) and the probation practice areas of the design, which
  admins may add to, rename and retire afterwards at /admin/reference.
- The default rule pack of the design, in force from the start: per registration year, at least
  30 hours, 10 of them participatory, 2 reflective accounts, 1 activity with peer reflection and
  3 practice areas (hours as quarter hours: 30 hours is 120).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T18:31:11:000000"
VERSION = "1.38.0"
DESCRIPTION = "cpd indexes, standards, practice areas and the default rule pack"

STANDARDS = [
    ("continuous_record", "Keep a continuous, up-to-date and accurate record of CPD activities"),
    ("mix_of_learning", "Take part in a mix of learning activities relevant to practice"),
    ("quality_of_practice", "CPD improves the quality of practice and service delivery"),
    ("benefits_people", "CPD benefits people on probation and the public"),
    ("written_profile", "Present a written profile of CPD on request"),
]
PRACTICE_AREAS = [
    ("risk_assessment", "Risk assessment and management"),
    ("public_protection", "Public protection and safeguarding"),
    ("desistance", "Desistance and rehabilitation"),
    ("victims", "Victims and restorative justice"),
    ("diversity", "Diversity and inclusion"),
    ("ethics", "Professional ethics"),
]
COMMON = [
    # Progress reads only these columns of a practitioner's year: the index covers them, so the
    # sums never visit the table.
    "CREATE INDEX cpd_activity_practitioner_date ON cpd_activity (practitioner, done_on,"
    " rule_pack, activity_type, quarters, participatory, reflective, peer_reflection)",
    "CREATE UNIQUE INDEX cpd_activity_area_unique"
    " ON cpd_activity_practice_area (activity, practice_area)",
    "CREATE UNIQUE INDEX cpd_activity_standard_unique ON cpd_activity_standard (activity, standard)",
    "INSERT INTO cpd_rule_pack (name, effective_from, min_total_quarters,"
    " min_participatory_quarters, min_reflective_accounts, min_peer_reflections,"
    " min_practice_areas, capped_type, cap_quarters, created_at, created_by)"
    " VALUES ('Default CPD requirement', '1900-01-01', 120, 40, 2, 1, 3, '', NULL,"
    " CURRENT_TIMESTAMP, NULL)",
]
COMMON_DOWN = [
    "DROP INDEX IF EXISTS cpd_activity_practitioner_date",
    "DROP INDEX IF EXISTS cpd_activity_area_unique",
    "DROP INDEX IF EXISTS cpd_activity_standard_unique",
    "DELETE FROM cpd_rule_pack",
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
        await run(
            COMMON + _seed("cpd_standard", STANDARDS) + _seed("cpd_practice_area", PRACTICE_AREAS)
        )

    async def down() -> None:
        await run(COMMON_DOWN + ["DELETE FROM cpd_practice_area", "DELETE FROM cpd_standard"])

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
