"""API writes answered before the framework (registry.web.fastpath): logging a CPD activity is
answered exactly as its route would, and everything the fast path cannot take goes to the
framework with the whole body, nothing stored twice."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar.types import Message, Scope

from registry.accounts.access import PRACTITIONER
from registry.accounts.roles import Role
from registry.core import clock
from registry.cpd.tables import Activity
from registry.web.fastpath import FAST_WRITE_BODY_MOST, Answer, FastPaths, WriteRoute
from tests.accounts.helpers import user_signed_in_as
from tests.cpd.helpers import TODAY, api_body, practitioner_with_record

ACTIVITIES = "/api/v1/me/cpd/activities"
# A media type the fast path does not take (it takes exactly application/json): the same
# request, answered by the route itself.
FRAMEWORK = "application/json; charset=utf-8"
WRITTEN_FRESH = ("id", "created_at", "updated_at")


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen_at(TODAY):  # the day the CPD tests' practitioner and dates are set for
        yield


def activity(**changes: Any) -> bytes:
    return json.dumps(api_body(**changes)).encode()


def _shape(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    """The answer without what differs between two writes (ids, times, the request id)."""
    headers = {
        key: value
        for key, value in response.headers.items()
        if key not in ("x-request-id", "content-length")
    }
    content = response.json()
    if isinstance(content, dict):
        content = {k: v for k, v in content.items() if k not in WRITTEN_FRESH}
        content.pop("request_id", None)
    return response.status_code, content, headers


async def test_a_fast_write_is_answered_as_its_route_answers_it(client: httpx.AsyncClient) -> None:
    person = await practitioner_with_record()
    long_reflection = {"what_learned": "The referral route, step by step. " * 60}
    for changes, extra in (({}, {}), (long_reflection, {"accept-encoding": "gzip"})):
        answers = [
            await client.post(
                ACTIVITIES,
                content=activity(**changes),
                headers={**person.bearer(), "content-type": kind, **extra},
            )
            for kind in ("application/json", FRAMEWORK)
        ]
        fast, framework = answers
        assert fast.status_code == 201, fast.text
        assert _shape(fast) == _shape(framework)
        assert fast.json()["id"] != framework.json()["id"]
    assert fast.headers["content-encoding"] == "gzip"  # the long one, as the framework sends it
    assert await Activity.count() == 4


async def test_refusals_are_the_frameworks_and_store_nothing(client: httpx.AsyncClient) -> None:
    person = await practitioner_with_record()
    employer = await user_signed_in_as(Role.employer, "emma@example.org")
    cases = [
        (person.bearer(), activity(hours="0.3")),  # the schema refuses it
        (person.bearer(), activity(done_on="2019-01-01")),  # before the registration
        (person.bearer(), activity(practice_areas=["no_such_area"])),  # the service refuses it
        (person.bearer(), b'{"title": "Cut off'),  # not JSON
        (employer.bearer(), activity()),  # a role the route's access row does not admit
        ({"authorization": "Bearer prr_not_a_token"}, activity()),
        (person.bearer(), activity(what_happened="x" * (FAST_WRITE_BODY_MOST + 1))),  # too long
    ]
    for headers, sent in cases:
        fast = await client.post(
            ACTIVITIES, content=sent, headers={**headers, "content-type": "application/json"}
        )
        framework = await client.post(
            ACTIVITIES, content=sent, headers={**headers, "content-type": FRAMEWORK}
        )
        assert fast.status_code in (400, 401, 403, 409, 422), fast.text
        assert _shape(fast) == _shape(framework), sent[:60]
    assert await Activity.count() == 0


class _Framework:
    """The application behind the fast path: records what reached it, body and all."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"framework"})


async def _post(
    fast: FastPaths, body: list[bytes], headers: dict[str, str], path: str = "/api/v1/write"
) -> list[dict[str, Any]]:
    """POST ``body`` (in these chunks) to ``fast``; what it sent back."""
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(body) - 1}
        for i, chunk in enumerate(body)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> Message:
        return pending.pop(0)  # type: ignore[return-value]

    async def send(message: Message) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "state": {},
    }
    await fast(scope, receive, send)  # type: ignore[arg-type]
    return sent


async def test_what_the_fast_path_gives_back_reaches_the_framework_whole(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    framework = _Framework()
    written: list[bytes] = []

    async def write(body: bytes, scope: Scope) -> Answer | None:
        if body == b"refused":
            return None
        written.append(body)
        return Answer(201, [(b"content-type", b"text/plain")], b"stored")

    fast = FastPaths(
        framework,
        [],
        {},
        {("POST", "/api/v1/write"): WriteRoute("write", write)},
        {"write": PRACTITIONER},
    )
    as_json = {**person.bearer(), "content-type": "application/json"}

    answered = await _post(fast, [b"one ", b"two"], as_json)
    assert (answered[0]["status"], answered[1]["body"]) == (201, b"stored")
    assert written == [b"one two"]
    assert framework.bodies == []

    big = [b"x" * (FAST_WRITE_BODY_MOST // 2)] * 3  # more than it reads: the rest left unread
    for chunks, headers in (
        ([b"refused"], as_json),  # the write refuses it
        ([b"plain"], {**person.bearer(), "content-type": "text/plain"}),
        ([b"no token"], {"content-type": "application/json"}),
        (big, as_json),
    ):
        answered = await _post(fast, chunks, headers)
        assert answered[0]["status"] == 299
        assert framework.bodies[-1] == b"".join(chunks)
    assert written == [b"one two"]

    employer = await user_signed_in_as(Role.employer, "emma@example.org")
    answered = await _post(fast, [b"{}"], {**employer.bearer(), "content-type": "application/json"})
    assert answered[0]["status"] == 299
    assert written == [b"one two"]
    # A route with no access row is open to no one, here as in the framework.
    closed = FastPaths(
        framework, [], {}, {("POST", "/api/v1/write"): WriteRoute("write", write)}, {}
    )
    assert (await _post(closed, [b"{}"], as_json))[0]["status"] == 299


def test_a_gzipped_answer_decodes_to_the_answer() -> None:
    # The fast path compresses as the application's middleware would (tested above through
    # the application); here the bytes themselves.
    from registry.web.fastpath import _compressed

    body = b'{"a": "' + b"x" * 2000 + b'"}'
    answer = Answer(201, [(b"content-type", b"application/json")], body)
    scope: Any = {"headers": [(b"accept-encoding", b"gzip, deflate")]}
    sent = _compressed(answer, scope)
    assert gzip.decompress(sent.body) == body
    assert (b"content-encoding", b"gzip") in sent.headers
    assert _compressed(answer, {"headers": []}) is answer  # type: ignore[arg-type]


def test_every_fast_write_answers_for_a_route_with_an_access_row(app: Any) -> None:
    # A route renamed or moved would leave its fast write answering for nothing (and every
    # request going to the framework): each one names a route of this application, at its path.
    from registry.app import FAST_WRITES

    for (method, path), write in FAST_WRITES.items():
        assert write.route in app.state.access, write.route
        handlers = app.route_handler_method_map.get(path, {})
        assert method in handlers, (method, path)
        assert handlers[method].name == write.route
