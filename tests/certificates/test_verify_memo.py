"""A proof check kept for a credential seen before never answers for a different one."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import httpx

from registry.certificates import credentials, keys, service
from tests.certificates.helpers import live_certificate
from tests.register.helpers import put_on_register


def signed_with_a_value(value: object) -> dict[str, object]:
    """A credential signed with this register's key, carrying ``value`` somewhere."""
    method, key = keys.issuer().signing_method()
    document = {
        "@context": [credentials.VC_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": keys.issuer().did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"serial": "not one of ours", "count": value},
    }
    created = datetime(2026, 1, 1, tzinfo=UTC)
    return credentials.sign(document, key=key, method_id=method, created=created)


async def test_a_value_that_python_calls_equal_is_still_a_different_credential(
    client: httpx.AsyncClient,
) -> None:
    one = signed_with_a_value(1)
    assert (await service.verify(one)).check("signature_valid").passed
    assert (await service.verify(one)).check("signature_valid").passed  # kept, and still right
    changed = copy.deepcopy(one)
    changed["credentialSubject"]["count"] = True  # type: ignore[index]
    assert changed == one  # Python's 1 == True: the kept check must not be found by equality
    assert not (await service.verify(changed)).check("signature_valid").passed
    again = copy.deepcopy(one)
    again["credentialSubject"]["count"] = 1.0  # type: ignore[index]
    # 1.0 is 1 in canonical JSON (RFC 8785), so the signature holds, whether kept or not.
    assert (await service.verify(again)).check("signature_valid").passed


async def test_a_stored_credential_checked_twice_then_tampered(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    for _ in range(2):
        assert (await service.verify(certificate.serial)).valid
        assert (await service.verify(certificate.credential)).valid
    tampered = copy.deepcopy(certificate.credential)
    tampered["credentialSubject"]["name"] = "Jane Smyth"
    found = await service.verify(tampered)
    assert not found.check("signature_valid").passed
