"""Organisation API keys: made by administrators and shown once, stored hashed, scoped,
revocable, limited per minute; another organisation's key is not found."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx

from registry.audit.tables import AuditEntry
from registry.core import clock
from registry.employers.tables import ApiKey
from tests.employers.helpers import bearer, employer, limit_calls

CHECK = {"registration_numbers": ["PR1000011"]}


async def test_a_key_is_shown_once_and_stored_as_its_hash(client: httpx.AsyncClient) -> None:
    north = await employer()
    made = await client.post(
        "/api/v1/organisation/keys",
        json={"name": "HR system", "scopes": ["verify"]},
        headers=north.admin.bearer(),
    )
    assert made.status_code == 201, made.text
    secret = made.json()["key"]
    assert secret.startswith("ppr_live_")
    assert len(secret) == len("ppr_live_") + 43
    assert made.json()["prefix"] == secret[:15]
    listed = await client.get("/api/v1/organisation/keys", headers=north.admin.bearer())
    assert secret not in listed.text
    assert [k["name"] for k in listed.json()] == ["HR system"]
    row = await ApiKey.select().first()
    assert row is not None
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(row)
    assert await AuditEntry.count().where(AuditEntry.action == "employers.key_issued") == 1


async def test_a_key_checks_and_its_last_use_is_kept(client: httpx.AsyncClient) -> None:
    north = await employer()
    secret = await north.key()
    response = await client.post("/api/v1/verifications", json=CHECK, headers=bearer(secret))
    assert response.status_code == 200
    row = await ApiKey.select(ApiKey.last_used_at).first()
    assert row is not None
    assert row["last_used_at"] is not None


async def test_a_revoked_or_wrong_key_is_401(client: httpx.AsyncClient) -> None:
    north = await employer()
    secret = await north.key()
    key_id = (await ApiKey.select(ApiKey.id).first() or {})["id"]
    revoked = await client.delete(
        f"/api/v1/organisation/keys/{key_id}", headers=north.admin.bearer()
    )
    assert revoked.status_code == 204
    for sent in (secret, secret[:-1] + ("A" if secret[-1] != "A" else "B"), "ppr_live_short"):
        response = await client.post("/api/v1/verifications", json=CHECK, headers=bearer(sent))
        assert response.status_code == 401, sent
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert await AuditEntry.count().where(AuditEntry.action == "employers.key_revoked") == 1


async def test_a_key_reaches_only_routes_of_its_scopes(client: httpx.AsyncClient) -> None:
    north = await employer()
    watch_only = await north.key("watchlist", name="watch")
    response = await client.post("/api/v1/verifications", json=CHECK, headers=bearer(watch_only))
    assert response.status_code == 403
    verify = await north.key("verify")
    # A key is not a person: it cannot manage the organisation or reach anyone's account.
    for method, path in (
        ("GET", "/api/v1/organisation"),
        ("GET", "/api/v1/organisation/keys"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/me/tokens"),
    ):
        refused = await client.request(method, path, headers=bearer(verify))
        assert refused.status_code == 403, path
    assert (await client.get("/api/v1/register/", headers=bearer(verify))).status_code == 200


async def test_calls_over_the_limit_are_429_with_retry_after(client: httpx.AsyncClient) -> None:
    north = await employer()
    await limit_calls(north.organisation.id, 2)
    secret = await north.key()
    start = datetime(2026, 11, 27, 12, 0, 10, tzinfo=UTC)
    with clock.frozen_at(start) as advance:
        for _ in range(2):
            ok = await client.post("/api/v1/verifications", json=CHECK, headers=bearer(secret))
            assert ok.status_code == 200
        refused = await client.post("/api/v1/verifications", json=CHECK, headers=bearer(secret))
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "50"
        assert "2 calls a minute" in refused.json()["detail"]
        # Another key of the same organisation has its own allowance.
        other = await north.key(name="payroll")
        assert (
            await client.post("/api/v1/verifications", json=CHECK, headers=bearer(other))
        ).status_code == 200
        advance(timedelta(minutes=1))
        again = await client.post("/api/v1/verifications", json=CHECK, headers=bearer(secret))
        assert again.status_code == 200
    limited = AuditEntry.action == "employers.key_rate_limited"
    assert await AuditEntry.count().where(limited) == 1


async def test_another_organisations_key_is_not_found(client: httpx.AsyncClient) -> None:
    north = await employer()
    south = await employer("Southern Trust", "south")
    await south.key()
    key_id = (await ApiKey.select(ApiKey.id).first() or {})["id"]
    response = await client.delete(
        f"/api/v1/organisation/keys/{key_id}", headers=north.admin.bearer()
    )
    assert response.status_code == 404
    row = await ApiKey.select(ApiKey.revoked_at).first()
    assert row is not None
    assert row["revoked_at"] is None
    listed = await client.get("/api/v1/organisation/keys", headers=north.admin.bearer())
    assert listed.json() == []


async def test_scopes_and_names_are_checked(client: httpx.AsyncClient) -> None:
    north = await employer()
    for body in (
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["everything"]},
        {"name": "", "scopes": ["verify"]},
        {"name": "x" * 81, "scopes": ["verify"]},
        {"name": "a\x00b", "scopes": ["verify"]},
    ):
        response = await client.post(
            "/api/v1/organisation/keys", json=body, headers=north.admin.bearer()
        )
        assert response.status_code == 422, body
    assert await ApiKey.count() == 0
