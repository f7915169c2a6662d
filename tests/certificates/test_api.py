"""The verification API, the published status lists and the issuer's key document."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.certificates import credentials, keys, status_lists
from registry.certificates.tables import Certificate
from registry.register import service as register
from registry.register.service import EntryMove
from tests.certificates.helpers import live_certificate
from tests.certificates.test_credentials import independent_verify
from tests.register.helpers import put_on_register

PROBLEM = "application/problem+json"


async def test_verify_a_serial_then_see_a_lapse_on_the_next_request(
    client: httpx.AsyncClient,
) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    answer = await client.post("/api/v1/verify", json={"serial": certificate.display_serial})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["valid"] is True
    assert body["verdict"] == "Valid: Jane Smith is registered with no restrictions"
    assert {c["name"]: c["passed"] for c in body["checks"]} == {
        "signature_valid": True,
        "issued_by_register": True,
        "not_revoked": True,
        "not_suspended": True,
        "not_expired": True,
        "registered": True,
    }
    await register.move_entry(entry.id, EntryMove.lapse, reason="Not renewed")
    again = (await client.post("/api/v1/verify", json={"serial": certificate.serial})).json()
    assert again["valid"] is False
    assert again["verdict"].startswith("Not valid: this certificate was revoked on ")
    assert again["verdict"].endswith("because the registration lapsed")
    assert again["status"] == "lapsed"


async def test_verify_a_whole_credential_and_a_tampered_one(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    credential = (await live_certificate(entry.id)).credential
    good = await client.post("/api/v1/verify", json={"credential": credential})
    assert good.json()["valid"] is True
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["name"] = "Jane Smyth"
    bad = (await client.post("/api/v1/verify", json={"credential": tampered})).json()
    assert bad["valid"] is False
    signature = next(c for c in bad["checks"] if c["name"] == "signature_valid")
    assert signature["passed"] is False
    assert "changed after signing" in signature["detail"]
    assert bad["verdict"].startswith("Not valid: ")
    assert await Certificate.count() == 1  # nothing stored


async def test_unknown_malformed_oversized_and_not_a_credential(client: httpx.AsyncClient) -> None:
    unknown = await client.post(
        "/api/v1/verify", json={"serial": "0000-0000-0000-0000-0000-0000-000"}
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith(PROBLEM)
    assert "No certificate has the serial" in unknown.json()["detail"]
    malformed = await client.post(
        "/api/v1/verify", json={"serial": "0000-0000-0000-0000-0000-0000-001"}
    )
    assert malformed.status_code == 422
    assert "last character does not match" in malformed.text
    huge = await client.post("/api/v1/verify", json={"credential": {"padding": "x" * 100_000}})
    assert huge.status_code == 413
    assert huge.headers["content-type"].startswith(PROBLEM)
    not_one = await client.post("/api/v1/verify", json={"credential": {"hello": "world"}})
    assert not_one.status_code == 422
    assert "not a certificate credential" in not_one.text
    neither = await client.post("/api/v1/verify", json={})
    assert neither.status_code == 422
    assert "either the certificate's serial or its credential" in neither.text


async def test_status_lists_are_signed_cached_and_follow_the_register(
    client: httpx.AsyncClient,
) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    [revocation] = [
        s for s in certificate.credential["credentialStatus"] if s["statusPurpose"] == "revocation"
    ]
    assert revocation["type"] == "BitstringStatusListEntry"
    path = "/" + revocation["statusListCredential"].split("/", 3)[3]
    index = int(revocation["statusListIndex"])
    first = await client.get(path)
    assert first.status_code == 200
    assert "max-age=0" in first.headers["cache-control"]
    listed = first.json()
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["credentialSubject"]["statusPurpose"] == "revocation"
    encoded = listed["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    assert not status_lists.bit_at(encoded, index)
    assert len(status_lists.encode([], status_lists.LIST_SIZE)) < 200  # 16 KB of zeros, gzipped
    document = (await client.get("/.well-known/did.json")).json()
    [method] = document["verificationMethod"]
    assert independent_verify(listed, keys.public_key_from_multikey(method["publicKeyMultibase"]))
    not_modified = await client.get(path, headers={"if-none-match": first.headers["etag"]})
    assert not_modified.status_code == 304

    await register.move_entry(entry.id, EntryMove.removal, reason="Decision FTP-1")
    changed = await client.get(path, headers={"if-none-match": first.headers["etag"]})
    assert changed.status_code == 200
    assert status_lists.bit_at(changed.json()["credentialSubject"]["encodedList"], index)
    assert (await client.get("/status-lists/nonsense")).status_code == 404


async def test_the_did_document_publishes_the_keys_and_never_the_private_one(
    client: httpx.AsyncClient,
) -> None:
    entry = await put_on_register("Jane", "Smith")
    credential = (await live_certificate(entry.id)).credential
    answer = await client.get("/.well-known/did.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["id"] == "did:web:testserver.local"
    assert credential["issuer"]["id"] == document["id"]
    assert credential["proof"]["verificationMethod"] in document["assertionMethod"]
    text = json.dumps(document)
    assert "PRIVATE" not in text
    assert "privateKey" not in text


async def test_a_credential_signed_by_a_key_never_published_is_named(
    client: httpx.AsyncClient,
) -> None:
    entry = await put_on_register("Jane", "Smith")
    credential = (await live_certificate(entry.id)).credential
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    forged = credentials.sign(
        unsecured,
        key=Ed25519PrivateKey.generate(),
        method_id="did:web:testserver.local#key-99",
        created=datetime(2026, 11, 27, tzinfo=UTC),
    )
    answer = (await client.post("/api/v1/verify", json={"credential": forged})).json()
    assert answer["valid"] is False
    assert answer["verdict"] == "Not valid: not signed with any key this register has published"
    checks = {c["name"]: c["passed"] for c in answer["checks"]}
    assert checks["issued_by_register"] is False
    assert checks["signature_valid"] is False
