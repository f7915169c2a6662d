"""``registry import-register``: every row checked first, all or nothing, and safe to run again."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from registry.audit.tables import AuditEntry
from registry.config import Settings
from registry.core import clock
from registry.register import importer, numbers, service
from registry.register import search as public_register
from registry.register.tables import EntryHistory, NumberSequence, RegisterEntry
from tests.register.helpers import put_on_register, register_history
from tests.support import registry_command

HEADER = (
    "registration_number,given_names,family_name,date_of_birth,email,region,roles,"
    "registered_since,registered_until,status,qualification,qualification_awarded_on"
)
KEPT = numbers.registration_number(900001)  # an earlier register's number, kept on import
LAPSED = numbers.registration_number(900002)
WRONG_CHECK = KEPT[:-1] + ("0" if KEPT[-1] != "0" else "1")
GOOD_ROWS = [
    f"{KEPT},Aled,Evans,1979-02-11,aled@example.org,east_midlands,probation_officer,2012-05-01,"
    "2027-11-30,registered,dips,2011-07-01",
    ",Siobhan,McCarthy,1990-08-30,,london,probation_services_officer;trainee_probation_officer,"
    "2024-09-01,2026-11-30,,,",
    f"{LAPSED},Tomasz,Nowak,1984-12-01,,north_west,senior_probation_officer,2015-01-05,"
    "2024-11-30,lapsed,pqip,2014-06-30",
]
BAD_ROWS = [
    f"{WRONG_CHECK},Bad,Check,1980-01-01,,london,probation_officer,2015-01-01,2027-11-30,,,",
    ",Too,Young,2015-06-01,,atlantis,probation_officer,2099-01-01,2027-11-30,,,",
    ",Child,Graduate,1990-01-01,,london,probation_officer,2015-01-01,2027-11-30,,dips,2005-07-01",
]


def csv_file(tmp_path: Path, rows: list[str], name: str = "earlier-register.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


async def _count(table: Any) -> int:
    return int(await table.count())


async def test_a_bad_row_stops_the_import_and_every_problem_is_named(
    engine: Any, migrated: Settings, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, GOOD_ROWS + BAD_ROWS)
    status, output = await registry_command(migrated, "import-register", path)
    assert status == 1, output
    lines = output.splitlines()
    assert lines[0] == (
        f"line 5, field registration_number: {WRONG_CHECK} is not a valid registration number: "
        "its last character does not match. Check it for a mistyped digit."
    )
    assert "line 6, field date_of_birth: A practitioner must be at least 18" in lines
    assert any(
        line.startswith("line 6, field region: 'atlantis' is not a region") for line in lines
    )
    assert "line 6, field registered_since: 2099-01-01 is in the future" in lines
    assert (
        "line 7, field qualification_awarded_on: The date it was awarded must be on or after "
        "the practitioner's 16th birthday"
    ) in lines
    assert lines[-1] == (
        "3 of 6 rows are not valid, so nothing was imported. Correct them, or run again with "
        "--skip-invalid to import only the valid rows."
    )
    assert await _count(RegisterEntry) == 0
    assert await _count(AuditEntry) == 0


async def test_skip_invalid_imports_the_rest_and_running_again_changes_nothing(
    engine: Any, migrated: Settings, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, GOOD_ROWS + BAD_ROWS)
    status, output = await registry_command(
        migrated, "import-register", path, "--skip-invalid", with_stderr=True
    )
    assert status == 0, output
    assert "Importing" in output  # the progress bar, on standard error
    assert "3/3" in output
    assert output.splitlines()[-1] == "imported 3, already on the register 0, skipped 3 invalid"

    kept = await service.get_entry(await service.entry_id_for(KEPT))
    assert kept.public.name == "Aled Evans"
    assert kept.public.region.code == "east_midlands"
    assert [q.name for q in kept.public.qualifications] == ["Diploma in Probation Studies (DipPS)"]
    assert kept.email == "aled@example.org"
    lapsed = await service.get_entry(await service.entry_id_for(LAPSED))
    assert lapsed.status.value == "lapsed"
    found = (await public_register.search(query="Siobhan McCarthy")).entries
    assert [role.code for role in found[0].roles] == [
        "probation_services_officer",
        "trainee_probation_officer",
    ]
    assert found[0].registration_number not in (KEPT, LAPSED)  # a new number
    history = await register_history(kept.id)
    assert history[0].actor_label == "system: import-register"
    assert history[0].reason == "Imported from earlier-register.csv, line 2"
    labels = await AuditEntry.select(AuditEntry.actor_label, AuditEntry.action)
    assert {row["actor_label"] for row in labels} == {"system: import-register"}
    assert [row["action"] for row in labels].count("register.entry_created") == 3

    again, output = await registry_command(migrated, "import-register", path, "--skip-invalid")
    assert again == 0, output
    assert output.splitlines()[-1] == "imported 0, already on the register 3, skipped 3 invalid"
    assert await _count(RegisterEntry) == 3
    assert await _count(EntryHistory) == 3 + 2  # and the two registered entries' certificates


async def test_a_dry_run_says_what_would_happen_and_writes_nothing(
    engine: Any, migrated: Settings, tmp_path: Path
) -> None:
    await put_on_register("Aled", "Evans")  # someone else: same name, other birthday
    path = csv_file(tmp_path, GOOD_ROWS)
    status, output = await registry_command(migrated, "import-register", path, "--dry-run")
    assert status == 0, output
    assert output == (
        "dry run, nothing written: would import 3, already on the register 0, skipped 0 invalid\n"
    )
    assert await _count(RegisterEntry) == 1


async def _plan(rows: list[str], header: str = HEADER) -> importer.Plan:
    text = "\n".join([header, *rows]) + "\n"
    return await importer.plan_import(text, clock.now().date(), await service.reference_data())


async def test_the_header_must_name_the_columns(engine: Any) -> None:
    plan = await _plan(GOOD_ROWS, header=HEADER.replace("region", "regoin"))
    assert not plan.header_ok
    assert [str(p) for p in plan.problems] == [
        "line 1, field regoin: 'regoin' is not a column this import reads. The columns are: "
        + ", ".join(importer.COLUMNS),
        "line 1, field region: This column is missing; every row needs it",
    ]
    assert plan.new == []


async def test_repeats_in_the_file_and_clashes_with_the_register_are_problems(
    engine: Any,
) -> None:
    on_register = await put_on_register("Nia", "Roberts")  # born 1985-03-14, by the helper
    rows = [
        GOOD_ROWS[0],
        GOOD_ROWS[0].replace("Aled,Evans,1979-02-11", "Gareth,Evans,1970-01-01"),
        GOOD_ROWS[1],
        GOOD_ROWS[1].replace("london", "north_east"),
        # The same person as on the register (names in any case), under another number.
        f"{numbers.registration_number(900009)},nia , ROBERTS,1985-03-14,,london,"
        "probation_officer,2020-04-01,2027-11-30,,,",
        # A number on the register already, for somebody else.
        f"{on_register.registration_number},Someone,Else,1980-01-01,,london,probation_officer,"
        "2020-04-01,2027-11-30,,,",
        # A row with more values than columns.
        ",Extra,Values,1980-01-01,,london,probation_officer,2020-04-01,2027-11-30,,,,surplus",
    ]
    plan = await _plan(rows)
    assert [str(p) for p in plan.problems] == [
        f"line 3, field registration_number: {KEPT} is also on line 2",
        "line 5, field given_names: The same person (names and date of birth) is also on line 4",
        "line 6, field registration_number: This person is on the register already, as "
        f"{on_register.registration_number}",
        f"line 7, field registration_number: {on_register.registration_number} is on the "
        "register already, for someone with a different name or date of birth",
        "line 8, field row: Has 13 values but the header names 12 columns",
    ]
    assert plan.already == 0
    assert [row.line for row in plan.new] == [2, 4]
    assert plan.invalid == 5


async def test_a_row_over_several_lines_is_reported_at_its_first_line(
    engine: Any,
) -> None:
    plan = await _plan([GOOD_ROWS[1], ',"Mary\nAnn",Jones,1980-13-01,,london,,2015-01-01,,,,'])
    assert [str(p) for p in plan.problems] == [
        "line 3, field given_names: Given names must be on one line and must not start with "
        "=, + or @",
        "line 3, field date_of_birth: '1980-13-01' is not a date: use YYYY-MM-DD, like 1985-03-14",
        "line 3, field roles: Enter at least one designated role code, separated by ';'",
        "line 3, field registered_until: Enter a date as YYYY-MM-DD",
    ]


async def test_new_numbers_step_over_numbers_imported_ahead_of_the_sequence(engine: Any) -> None:
    rows = await NumberSequence.select(NumberSequence.next_value).where(
        NumberSequence.name == "registration"
    )
    upcoming = [numbers.registration_number(rows[0]["next_value"] + n) for n in range(2)]
    plan = await _plan(
        [
            f"{number},Imported,Person{n},1980-01-0{n + 1},,london,probation_officer,"
            "2015-01-01,2027-11-30,,,"
            for n, number in enumerate(upcoming)
        ]
    )
    reference = await service.reference_data()
    outcome = await importer.apply_plan(plan, source="test.csv", reference=reference)
    assert outcome.imported == 2
    assert outcome.failed == []
    created = await put_on_register("Brand", "New")
    assert created.registration_number not in upcoming
    assert numbers.parse_registration_number(created.registration_number)


async def test_a_row_that_fails_while_applying_leaves_the_rest_of_its_batch_in(
    engine: Any,
) -> None:
    plan = await _plan(GOOD_ROWS)
    # Someone takes the first row's number after the check and before the import reaches it.
    await service.create_entry(
        service.EntryIn(
            person=service.PersonIn("Quick", "Off The Mark", date(1980, 1, 1)),
            role_codes=["probation_officer"],
            region_code="london",
            registered_since=date(2020, 1, 1),
            registered_until=date(2027, 11, 30),
            registration_number=KEPT,
        ),
        reason="Test",
    )
    outcome = await importer.apply_plan(
        plan, source="test.csv", reference=await service.reference_data()
    )
    assert outcome.imported == 2
    assert [str(p) for p in outcome.failed] == [
        f"line 2, field registration_number: {KEPT} is already on the register"
    ]
    assert await _count(RegisterEntry) == 3


async def test_a_file_that_is_not_utf8_is_refused_and_a_byte_order_mark_is_fine(
    engine: Any, migrated: Settings, tmp_path: Path
) -> None:
    latin = tmp_path / "latin-1.csv"
    # Read in passes, never whole: a bad byte far down the file still stops it before writing.
    latin.write_bytes(
        "\n".join([HEADER, GOOD_ROWS[1], GOOD_ROWS[0].replace("Aled", "Siân")]).encode("latin-1")
    )
    status, output = await registry_command(
        migrated, "import-register", str(latin), with_stderr=True
    )
    assert status == 1, output
    assert "is not UTF-8 text; save it as CSV UTF-8" in output
    assert await _count(RegisterEntry) == 0

    marked = tmp_path / "excel.csv"
    marked.write_bytes(("\ufeff" + "\n".join([HEADER, GOOD_ROWS[1]]) + "\n").encode("utf-8"))
    status, output = await registry_command(migrated, "import-register", str(marked))
    assert status == 0, output
    assert output.splitlines()[-1] == "imported 1, already on the register 0, skipped 0 invalid"
