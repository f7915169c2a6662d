"""Verifying a credential offline: from its file, a saved copy of the issuer's key document
(``/.well-known/did.json``) and saved copies of the status lists, with no database and no
network. What ``registry verify`` runs; the live register status cannot be checked this way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from registry.certificates import credentials, status_lists
from registry.certificates.keys import public_key_from_multikey
from registry.certificates.service import Check


def keys_of(did_document: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """Every ``Multikey`` of a DID document listed for making assertions."""
    allowed = set(did_document.get("assertionMethod") or [])
    found: dict[str, Ed25519PublicKey] = {}
    for method in did_document.get("verificationMethod") or []:
        if not isinstance(method, Mapping) or method.get("id") not in allowed:
            continue
        try:
            found[str(method["id"])] = public_key_from_multikey(str(method["publicKeyMultibase"]))
        except (KeyError, ValueError):
            continue
    return found


def check(
    credential: Mapping[str, Any],
    did_document: Mapping[str, Any],
    lists: Sequence[Mapping[str, Any]],
    now: datetime,
) -> list[Check]:
    """The checks a verifier can make from files: signature, issuer's key, each status bit (from
    a status list whose own proof holds), and expiry."""
    keys = keys_of(did_document)
    proof = credentials.verify(credential, keys)
    checks = [
        Check(
            "signature_valid",
            proof.signature_valid,
            "Signature valid",
            "The signature matches the certificate" if proof.signature_valid else proof.problem,
        ),
        Check(
            "issued_by_register",
            proof.known_key and did_document.get("id") == _issuer_id(credential),
            "Issued by the key document's keys",
            f"Signed with {proof.verification_method or 'no key'}",
        ),
    ]
    trusted_lists = {
        str(document.get("id")): document
        for document in lists
        if credentials.verify(document, keys).signature_valid
    }
    entries = credential.get("credentialStatus")
    for purpose in ("revocation", "suspension"):
        checks.append(_bit_check(purpose, entries, trusted_lists))
    until = str(credential.get("validUntil", ""))
    try:
        expired = now > datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        expired = True
    checks.append(
        Check("not_expired", not expired, "Not expired", f"Valid until {until or 'unknown'}")
    )
    return checks


def _issuer_id(credential: Mapping[str, Any]) -> str:
    issuer = credential.get("issuer")
    return str(issuer.get("id") if isinstance(issuer, Mapping) else issuer)


def _bit_check(purpose: str, entries: Any, lists: Mapping[str, Mapping[str, Any]]) -> Check:
    name = "not_revoked" if purpose == "revocation" else "not_suspended"
    label = "Not revoked" if purpose == "revocation" else "Not suspended"
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, Mapping) or entry.get("statusPurpose") != purpose:
            continue
        url = str(entry.get("statusListCredential", ""))
        document = lists.get(url)
        if document is None:
            return Check(name, False, label, f"Not checked: give the status list {url}")
        subject = document.get("credentialSubject") or {}
        try:
            index = int(str(entry.get("statusListIndex")))
            bit = status_lists.bit_at(str(subject.get("encodedList", "")), index)
        except IndexError:
            return Check(name, False, label, f"Its index is outside the status list {url}")
        except (ValueError, OSError):  # not base64url, not GZIP
            return Check(name, False, label, f"The status list {url} cannot be read")
        return Check(name, not bit, label, f"The {purpose} bit is {'set' if bit else 'clear'}")
    return Check(name, False, label, f"The credential has no {purpose} status entry")
