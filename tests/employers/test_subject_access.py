"""What employers hold about a person, in their subject access export: their organisation,
the keys they made (never a hash) and their checks; nothing of a colleague's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from registry.core.subject_access import gather
from registry.domains import DOMAINS
from registry.employers import watchlists
from registry.employers.tables import ApiKey
from registry.register import numbers, service
from tests.employers.helpers import bearer, employer
from tests.register.helpers import put_on_register


async def test_the_export_holds_the_members_records_and_no_key_hash(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    north = await employer()
    secret = await north.key()
    await client.post(
        "/api/v1/verifications",
        json={"registration_numbers": ["PR1000011"]},
        headers=north.admin.bearer(),
    )
    await client.post(
        "/api/v1/verifications", json={"registration_numbers": ["x"]}, headers=bearer(secret)
    )
    south = await employer("Southern Trust", "south")
    export = await gather(DOMAINS, north.admin.account.email, tmp_path)
    part = export.document["employers"]
    assert [m["organisation.name"] for m in part["memberships"]] == ["Northern Probation Trust"]
    assert [c["numbers"] for c in part["bulk_checks"]] == [1]  # the key's check is not theirs
    text = json.dumps(part, default=str)
    assert "Northern Probation Trust" in text
    assert "HR system" in text
    assert south.organisation.name not in text
    stored = await ApiKey.select(ApiKey.key_hash).first()
    assert stored is not None
    assert stored["key_hash"] not in text
    assert secret not in text


async def test_a_practitioners_export_names_the_organisations_told_about_them(
    engine: Any, tmp_path: Path
) -> None:
    entry = await put_on_register("Ada", "Lovelace")
    number = entry.registration_number
    north = await employer()
    south = await employer("Southern Trust", "south")
    await watchlists.add(north.organisation.id, number)
    await watchlists.add(south.organisation.id, numbers.registration_number(999_999))
    url = "http://127.0.0.1:9/north-hook"
    await watchlists.add_endpoint(
        north.organisation.id, url, environment="development", secret_key="k" * 32, by_user_id=None
    )
    await service.change_name(entry.id, "Ada", "King", reason="Marriage")  # told to north

    export = await gather(DOMAINS, number, tmp_path)
    part = export.document["employers"]
    assert [
        (w["organisation"], w["registration_number"]) for w in part["watched_by_organisations"]
    ] == [("Northern Probation Trust", number)]
    [event] = part["events_sent_to_organisations"]
    assert event["organisation"] == "Northern Probation Trust"
    assert event["event_type"] == "register.entry_updated"
    text = json.dumps(part, default=str)
    assert south.organisation.name not in text
    assert url not in text  # the organisation's address, not the person's data
