"""The one log line each request writes: as structlog would render it, with the request id."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog

from registry.web import observability


@pytest.fixture
def json_logs() -> Iterator[None]:
    observability.configure_logging("json")
    yield
    observability.configure_logging("console")


def test_the_request_line_is_the_line_structlog_writes(
    json_logs: object, capsys: pytest.CaptureFixture[str]
) -> None:
    token = structlog.contextvars.bind_contextvars(request_id="lb-7f3a9c21")
    try:
        fields = {"method": "GET", "path": '/register/PR1"é', "status": 200, "duration_ms": 0.12}
        # A logger of its own: observability.log keeps the configuration of its first use.
        structlog.get_logger("registry.http").info("request", **fields)
        observability.request_line("lb-7f3a9c21", **fields)  # type: ignore[arg-type]
    finally:
        structlog.contextvars.reset_contextvars(**token)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    by_structlog, ours = (json.loads(line) for line in lines)
    assert list(ours) == list(by_structlog)  # the same keys in the same order
    assert by_structlog.pop("timestamp")[:11] == ours.pop("timestamp")[:11]
    assert ours == by_structlog
    assert ours["request_id"] == "lb-7f3a9c21"


def test_request_ids_and_nonces_are_fresh_each_time() -> None:
    ids = {observability._FRESH.request_id() for _ in range(600)}
    nonces = {observability._FRESH.nonce() for _ in range(600)}
    assert len(ids) == len(nonces) == 600  # across more than one batch of random bytes
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert all(len(n) == 22 for n in nonces)  # as secrets.token_urlsafe(16)
