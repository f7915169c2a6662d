"""Credentials and their proofs: eddsa-jcs-2022 as published, checked by an independent verifier
written here from the specification, the W3C's own test vector, tampering, keys and rotation."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.certificates import credentials, keys

MOMENT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)

# The W3C's eddsa-jcs-2022 test vector (w3c/vc-di-eddsa, TestVectors/keyPair.json and
# TestVectors/eddsa-jcs-2022/signedJCS.json): data, so our output can be compared with theirs.
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
]
W3C_METHOD = "https://vc.example/issuers/5678#" + W3C_PUBLIC
W3C_UNSECURED: dict[str, Any] = {
    "@context": W3C_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_PROOF_VALUE = (
    "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
)


def independent_verify(document: dict[str, Any], public_key: Ed25519PublicKey) -> bool:
    """The cryptosuite's Verify Proof, written from the specification with no code of ours
    (its own base58 decoding, its own hashing): True when the proof holds."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    unsecured = dict(document)
    proof = dict(unsecured.pop("proof"))
    value = proof.pop("proofValue", "")
    if not value.startswith("z"):
        return False
    number = 0
    for character in value[1:]:
        number = number * 58 + alphabet.index(character)
    if number >= 2 ** (8 * 64):
        return False
    signature = number.to_bytes(64, "big")
    if "@context" in proof:
        # the document's @context must start with the proof's, in order
        if unsecured.get("@context", [])[: len(proof["@context"])] != proof["@context"]:
            return False
        unsecured["@context"] = proof["@context"]
    data = (
        hashlib.sha256(rfc8785.dumps(proof)).digest()
        + hashlib.sha256(rfc8785.dumps(unsecured)).digest()
    )
    try:
        public_key.verify(signature, data)
    except Exception:
        return False
    return True


def _w3c_private_key() -> Ed25519PrivateKey:
    decoded = keys.from_base58btc(W3C_PRIVATE[1:])
    assert decoded[:2] == b"\x80\x26"  # the ed25519-priv multicodec
    return Ed25519PrivateKey.from_private_bytes(decoded[2:])


def test_signing_the_w3c_example_gives_the_w3c_proof_value() -> None:
    secured = credentials.sign(
        W3C_UNSECURED,
        key=_w3c_private_key(),
        method_id=W3C_METHOD,
        created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC),
    )
    assert secured["proof"]["proofValue"] == W3C_PROOF_VALUE
    assert secured["proof"]["@context"] == W3C_CONTEXT
    public = keys.public_key_from_multikey(W3C_PUBLIC)
    assert keys.multikey(public) == W3C_PUBLIC
    assert credentials.verify(secured, {W3C_METHOD: public}).signature_valid


def _document() -> dict[str, Any]:
    return {
        "@context": [credentials.VC_CONTEXT],
        "id": "http://testserver.local/verify/X",
        "type": ["VerifiableCredential"],
        "issuer": "did:web:testserver.local",
        "validFrom": "2026-11-27T09:30:00Z",
        "validUntil": "2027-11-30T23:59:59Z",
        "credentialSubject": {"name": "Zoë Ångström", "registrationNumber": "PR1000011"},
    }


def test_a_credential_signed_here_verifies_independently_and_here() -> None:
    key = Ed25519PrivateKey.generate()
    secured = credentials.sign(_document(), key=key, method_id="did:web:x#key-1", created=MOMENT)
    assert secured["proof"]["proofValue"].startswith("z")
    assert independent_verify(secured, key.public_key())
    check = credentials.verify(secured, {"did:web:x#key-1": key.public_key()})
    assert check.known_key
    assert check.signature_valid
    # and through JSON text and back, as a verifier would receive it
    assert credentials.verify(
        json.loads(json.dumps(secured)), {"did:web:x#key-1": key.public_key()}
    ).signature_valid


def test_one_changed_character_anywhere_breaks_the_signature() -> None:
    key = Ed25519PrivateKey.generate()
    method = "did:web:x#key-1"
    secured = credentials.sign(_document(), key=key, method_id=method, created=MOMENT)
    text = json.dumps(secured, ensure_ascii=False)
    changed = said_changed = 0
    for position, character in enumerate(text):
        if not character.isalnum():
            continue
        replacement = "Y" if character != "Y" else "Z"
        tampered = json.loads(text[:position] + replacement + text[position + 1 :])
        if tampered.get("proof", {}).get("verificationMethod") != method:
            continue  # a changed key id is an unknown key: tested below
        check = credentials.verify(tampered, {method: key.public_key()})
        assert not check.signature_valid, f"a change at {position} went unnoticed"
        assert not independent_verify(tampered, key.public_key())
        assert check.problem
        said_changed += "changed after signing" in check.problem
        changed += 1
    assert changed > 300
    assert said_changed > changed // 2


def test_a_credential_signed_by_an_unknown_key_is_named_as_such() -> None:
    ours, theirs = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    forged = credentials.sign(_document(), key=theirs, method_id="did:web:x#key-9", created=MOMENT)
    check = credentials.verify(forged, {"did:web:x#key-1": ours.public_key()})
    assert not check.known_key
    assert not check.signature_valid
    assert "never published" in check.problem
    # and a forger naming our key id gets a signature that does not hold
    posing = credentials.sign(_document(), key=theirs, method_id="did:web:x#key-1", created=MOMENT)
    assert not credentials.verify(posing, {"did:web:x#key-1": ours.public_key()}).signature_valid


def test_keys_are_made_once_privately_and_rotation_keeps_old_ones_published(tmp_path: Path) -> None:
    first = keys.key_ring(tmp_path)
    private = tmp_path / "issuer-keys" / "issuer-1.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert keys.key_ring(tmp_path).signing_key.public_key() == first.signing_key.public_key()
    issuer = keys.Issuer(tmp_path, "https://register.example.org")
    method, key = issuer.signing_method()
    assert method == "did:web:register.example.org#key-1"
    old = credentials.sign(_document(), key=key, method_id=method, created=MOMENT)

    assert keys.rotate(tmp_path) == 2
    assert not private.exists()
    new_method, new_key = issuer.signing_method()
    assert new_method.endswith("#key-2")
    new = credentials.sign(_document(), key=new_key, method_id=new_method, created=MOMENT)
    published = issuer.public_keys()
    assert credentials.verify(old, published).signature_valid
    assert credentials.verify(new, published).signature_valid

    document = issuer.did_document()
    assert document["id"] == "did:web:register.example.org"
    assert [m["id"] for m in document["verificationMethod"]] == document["assertionMethod"]
    assert {m["type"] for m in document["verificationMethod"]} == {"Multikey"}
    assert all(m["publicKeyMultibase"].startswith("z6Mk") for m in document["verificationMethod"])
    assert "BEGIN" not in json.dumps(document)


@pytest.mark.parametrize(
    ("base_url", "did"),
    [
        ("https://register.example.org", "did:web:register.example.org"),
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000"),
        ("https://example.org/probation/", "did:web:example.org:probation"),
    ],
)
def test_the_did_follows_the_base_url(base_url: str, did: str) -> None:
    assert keys.did_for(base_url) == did


# Any JSON value, with keys and strings from the whole of Unicode (control characters, lone
# surrogates, characters beyond the BMP), integers past 2**53 and floats: the fast
# canonicalisation must agree with the reference implementation, or leave the value to it.
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_canonical_json_is_rfc_8785_for_any_value(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except Exception as refused:
        with pytest.raises(type(refused)):
            credentials._canonical(value)
    else:
        assert credentials._canonical(value) == expected


def test_signed_text_is_the_signed_document_as_stored() -> None:
    key = Ed25519PrivateKey.generate()
    document = _document()
    text = credentials.signed_text(document, key=key, method_id="did:web:x#key-1", created=MOMENT)
    signed = credentials.sign(document, key=key, method_id="did:web:x#key-1", created=MOMENT)
    assert json.loads(text) == signed  # Ed25519 signatures are deterministic
    assert "proof" not in document
