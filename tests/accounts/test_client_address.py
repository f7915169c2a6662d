"""Who is asking, behind a load balancer: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from litestar.types import Scope

from registry.accounts.auth import client_address
from registry.config import Settings
from tests.support import TEST_SECRET_KEY


def _scope(peer: str, forwarded: str | None, trusted: str) -> dict[str, Any]:
    settings = Settings(secret_key=TEST_SECRET_KEY, trusted_proxies=trusted)
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {
        "type": "http",
        "client": (peer, 50000),
        "headers": headers,
        "app": SimpleNamespace(state=SimpleNamespace(settings=settings)),
    }


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "seen"),
    [
        # No proxies configured: the socket's peer, whatever the header claims.
        ("203.0.113.9", "198.51.100.1", "", "203.0.113.9"),
        # Through the load balancer: the address it saw.
        ("10.0.0.5", "198.51.100.1", "10.0.0.0/8", "198.51.100.1"),
        # A client's own forged entry before the balancer's is skipped: the nearest untrusted.
        ("10.0.0.5", "1.2.3.4, 198.51.100.1", "10.0.0.0/8", "198.51.100.1"),
        # Two proxies in a row.
        ("10.0.0.5", "198.51.100.1, 10.0.0.9", "10.0.0.0/8", "198.51.100.1"),
        # Someone not behind the proxies cannot choose their address by sending the header.
        ("203.0.113.9", "198.51.100.1", "10.0.0.0/8", "203.0.113.9"),
        # Garbage in the header: the proxy's own address, never the garbage.
        ("10.0.0.5", "not-an-address", "10.0.0.0/8", "10.0.0.5"),
        ("2001:db8::5", "2001:db8:1::7", "2001:db8::/64", "2001:db8:1::7"),
    ],
)
def test_the_client_address_is_read_through_trusted_proxies_only(
    peer: str, forwarded: str, trusted: str, seen: str
) -> None:
    assert client_address(cast(Scope, _scope(peer, forwarded, trusted))) == seen


def test_a_bad_trusted_proxies_setting_stops_start_up() -> None:
    with pytest.raises(ValueError, match="not an address or network"):
        Settings(secret_key=TEST_SECRET_KEY, trusted_proxies="10.0.0.0/8, load-balancer")
