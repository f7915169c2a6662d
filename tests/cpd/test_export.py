"""A practitioner's whole CPD record as CSV and JSON, and CPD's part of a subject access export."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from typing import Any

import httpx

from registry.config import Settings
from registry.core.subject_access import gather
from registry.cpd import activities
from registry.domains import DOMAINS
from registry.register.tables import RegisterEntry
from tests.cpd.helpers import CALENDAR, log, practitioner_with_record

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


async def test_the_record_downloads_as_csv_and_json_with_evidence_hashes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    person = await practitioner_with_record()
    first = await log(person, title='=HYPERLINK("http://evil")', hours=Decimal("2.25"))
    await log(person, title="Supervision", activity_type="supervision")
    await activities.attach_evidence(
        person.account.id, first.id, "cert.png", PNG, settings.data_dir, CALENDAR
    )
    client.cookies.update(person.cookies())
    answer = await client.get("/cpd/export.csv", headers={"accept": "text/html"})
    assert answer.status_code == 200
    assert (
        answer.headers["content-disposition"] == 'attachment; filename="cpd-record-2027-03-15.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["hours"] for row in rows] == ["2.25", "1.5"]
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil")'  # a formula is defused
    assert rows[0]["evidence"] == f"cert.png sha256:{hashlib.sha256(PNG).hexdigest()}"
    api = await client.get("/api/v1/me/cpd/export.json", headers=person.bearer())
    document = api.json()
    assert [item["title"] for item in document["activities"]] == [
        '=HYPERLINK("http://evil")',
        "Supervision",
    ]
    [file] = document["activities"][0]["evidence"]
    assert file == {
        "filename": "cert.png",
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "content_type": "image/png",
        "size": len(PNG),
    }


async def test_subject_access_holds_the_cpd_record_of_that_person_only(
    engine: Any, settings: Settings
) -> None:
    person = await practitioner_with_record()
    other = await practitioner_with_record("other@example.org")
    await log(person, what_learned="Mine")
    await log(other, what_learned="Theirs")
    owner = await activities.owner_of(person.account.id)
    number = (
        await RegisterEntry.select(RegisterEntry.registration_number)
        .where(RegisterEntry.id == owner.entry_id)
        .first()
    )
    assert number is not None
    export = await gather(DOMAINS, number["registration_number"], settings.data_dir)
    assert [item["what_learned"] for item in export.document["cpd"]["activities"]] == ["Mine"]
