"""What employers hold about a person, in their subject access export: their organisation,
the keys they made (never a hash) and their checks; nothing of a colleague's."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from registry.core.subject_access import gather
from registry.domains import DOMAINS
from registry.employers.tables import ApiKey
from tests.employers.helpers import bearer, employer


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
