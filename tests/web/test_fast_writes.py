"""API writes answered before the framework (registry.web.fastpath): logging a CPD activity and
raising a concern are answered exactly as their routes would, and everything the fast path
cannot take goes to the framework with the whole body, nothing stored twice."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar.types import Message, Scope

from registry.accounts.access import PRACTITIONER, allows
from registry.accounts.roles import Role
from registry.app import FAST_WRITES
from registry.audit.service import verify_chain
from registry.audit.tables import AuditEntry
from registry.conduct.concerns import CONCERNS_PER_ADDRESS
from registry.conduct.tables import CaseDocument, Concern, ConcernAttempt
from registry.core import clock
from registry.cpd.tables import Activity
from registry.web.fastpath import FAST_WRITE_BODY_MOST, Answer, FastPaths, WriteRoute
from tests.accounts.helpers import user_signed_in_as
from tests.conduct.test_attachments import PDF
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


def _shape(
    response: httpx.Response, fresh: tuple[str, ...] = WRITTEN_FRESH
) -> tuple[int, Any, dict[str, str]]:
    """The answer without what differs between two writes (ids, times, the request id)."""
    headers = {
        key: value
        for key, value in response.headers.items()
        if key not in ("x-request-id", "content-length")
    }
    content = response.json()
    if isinstance(content, dict):
        content = {k: v for k, v in content.items() if k not in fresh}
        content.pop("request_id", None)
    return response.status_code, content, headers


async def test_fast_writes_at_once_are_each_stored_answered_and_audited_in_one_chain(
    client: httpx.AsyncClient,
) -> None:
    """Sixteen activities logged at the same moment: committed together (SQLite's group
    commit, PostgreSQL's batch), each answered 201 with its own id only once stored, and the
    audit trail still one unbroken chain with an entry for each."""
    person = await practitioner_with_record()
    entries_before = await AuditEntry.count()
    answers = await asyncio.gather(
        *(
            client.post(
                ACTIVITIES,
                content=activity(title=f"Activity {number}"),
                headers={**person.bearer(), "content-type": "application/json"},
            )
            for number in range(16)
        )
    )
    assert [answer.status_code for answer in answers] == [201] * 16
    ids = {answer.json()["id"] for answer in answers}
    assert len(ids) == 16
    assert await Activity.count() == 16
    assert await AuditEntry.count() == entries_before + 16
    assert (await verify_chain()).ok


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
    fast: FastPaths,
    body: list[bytes],
    headers: dict[str, str],
    path: str = "/api/v1/write",
    app: Any = None,
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
        "state": {"request_id": "fast-request"},
        "app": app,
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
    for (method, path), write in FAST_WRITES.items():
        assert write.route in app.state.access, write.route
        handlers = app.route_handler_method_map.get(path, {})
        assert method in handlers, (method, path)
        assert handlers[method].name == write.route
        # An anonymous write is made by nobody: its row must admit nobody too.
        assert not write.anonymous or allows(app.state.access[write.route], None), write.route
    assert any(write.anonymous for write in FAST_WRITES.values())


# --- raising a concern: public, by someone with no credential at all -------------------------

CONCERNS = "/api/v1/concerns"
REFERENCE = ("reference",)


def concern(**changes: Any) -> bytes:
    return json.dumps(
        {
            "about_name": "Sam Someone",
            "about_workplace": "Leeds probation office",
            "what_happened": "They shouted at me in the waiting room.",
            "categories": ["professional_boundaries"],
            "relationship": "public",
            "raiser_name": "Rae Iser",
            "raiser_email": "rae@example.org",
            **changes,
        }
    ).encode()


def _exact(response: httpx.Response, fresh: tuple[str, ...] = REFERENCE) -> tuple[Any, ...]:
    """Everything the client receives, headers in their order, but the request id and what
    differs between two concerns."""
    headers = [(key, value) for key, value in response.headers.raw if key != b"x-request-id"]
    content = response.json()
    assert (
        content.pop("request_id", response.headers["x-request-id"])
        == (response.headers["x-request-id"])
    )
    return response.status_code, headers, {k: v for k, v in content.items() if k not in fresh}


async def _raise(
    client: httpx.AsyncClient, sent: bytes, kind: str = "application/json", **headers: str
) -> httpx.Response:
    return await client.post(CONCERNS, content=sent, headers={"content-type": kind, **headers})


async def _stored() -> tuple[int, int]:
    """Concerns, and the attempts counted against the tests' address (not its uploads)."""
    counted = ConcernAttempt.count().where(ConcernAttempt.client_address == "127.0.0.1")
    return await Concern.count(), await counted


async def test_a_concern_is_answered_fast_as_its_route_answers_it(
    client: httpx.AsyncClient,
) -> None:
    uploaded = await client.post(
        "/api/v1/concerns/attachments", files={"data": ("letter.pdf", PDF, "application/pdf")}
    )
    attached = {"attachments": [uploaded.json()["token"]]}
    for changes, extra in (({}, {}), (attached, {"accept-encoding": "gzip"})):
        fast, framework = [
            await _raise(client, concern(**changes), kind, **extra)
            for kind in ("application/json", FRAMEWORK)
        ]
        assert fast.status_code == 201, fast.text
        assert _exact(fast) == _exact(framework)
        assert fast.json()["reference"] != framework.json()["reference"]
    assert await _stored() == (4, 4)
    assert await CaseDocument.count() == 2  # the file, attached to each concern that named it


async def test_a_concern_with_no_credential_is_answered_before_the_framework(
    client: httpx.AsyncClient, app: Any
) -> None:
    framework = _Framework()
    fast = FastPaths(framework, [], {}, FAST_WRITES, app.state.access)
    as_json = {"content-type": "application/json"}

    answered = await _post(fast, [concern()], as_json, path=CONCERNS, app=app)
    assert answered[0]["status"] == 201
    assert framework.bodies == []
    assert await _stored() == (1, 1)
    [entry] = await AuditEntry.select().where(AuditEntry.action == "conduct.concern_raised")
    assert (entry["actor_label"], entry["client_address"]) == ("public", "127.0.0.1")
    assert entry["request_id"] == "fast-request"

    # Anything with a credential, a session cookie as much as a token, is the framework's to
    # answer (whoever is signed in raises it as themselves); and so is a robot's.
    for headers, sent in (
        ({**as_json, "cookie": "registry_session=abc"}, concern()),
        ({**as_json, "authorization": "Bearer prr_whoever"}, concern()),
        (as_json, concern(website="http://spam.example")),
    ):
        answered = await _post(fast, [sent], headers, path=CONCERNS, app=app)
        assert answered[0]["status"] == 299
        assert framework.bodies[-1] == sent
    assert await _stored() == (1, 1)


async def test_a_concern_with_a_credential_is_the_frameworks(client: httpx.AsyncClient) -> None:
    staff = await user_signed_in_as(Role.caseworker, "casey@example.org")
    answered = await _raise(client, concern(), cookie="registry_session=stale")
    assert answered.status_code == 201, answered.text
    answered = await _raise(client, concern(), **staff.bearer())
    assert answered.status_code == 201, answered.text
    raised_by = [row["raised_by"] for row in await Concern.select(Concern.raised_by)]
    assert sorted(raised_by, key=str) == sorted([None, staff.account.id], key=str)
    # Only the one from nobody is counted against its address.
    assert await ConcernAttempt.count() == 1


async def test_the_concern_one_too_many_is_refused_as_the_framework_refuses_it_counted_once(
    client: httpx.AsyncClient,
) -> None:
    for number in range(CONCERNS_PER_ADDRESS):
        kind = "application/json" if number % 2 else FRAMEWORK
        assert (await _raise(client, concern(), kind)).status_code == 201
    assert await _stored() == (CONCERNS_PER_ADDRESS, CONCERNS_PER_ADDRESS)

    fast = await _raise(client, concern())
    assert fast.status_code == 429, fast.text
    assert fast.headers["retry-after"] == "3600"
    assert await _stored() == (CONCERNS_PER_ADDRESS, CONCERNS_PER_ADDRESS + 1)  # counted once
    framework = await _raise(client, concern(), FRAMEWORK)
    assert await _stored() == (CONCERNS_PER_ADDRESS, CONCERNS_PER_ADDRESS + 2)
    assert _exact(fast, ()) == _exact(framework, ())
    assert fast.content == framework.content.replace(
        framework.headers["x-request-id"].encode(), fast.headers["x-request-id"].encode()
    )
    refusals = await AuditEntry.select().where(AuditEntry.action == "conduct.concerns_limited")
    assert [(entry["client_address"], entry["request_id"]) for entry in refusals] == [
        ("127.0.0.1", answer.headers["x-request-id"]) for answer in (fast, framework)
    ]


async def test_refused_concerns_are_the_frameworks_and_store_nothing(
    client: httpx.AsyncClient,
) -> None:
    cases = [
        concern(relationship="stranger"),  # the schema refuses it
        concern(what_happened=""),
        concern(shoe_size=9),
        concern(categories=[]),  # the service refuses it
        concern(categories=["no_such_kind"]),
        concern(relationship="regulator"),
        concern(about_name="", about_workplace=""),
        concern(about_number="NOT A NUMBER"),
        concern(happened_on="2999-01-01"),
        concern(raiser_email="rae.example.org"),
        concern(attachments=["1.2.not-signed"]),  # a token this service did not issue
        b'{"about_name": "Cut off',  # not JSON
        concern(what_happened="x" * (FAST_WRITE_BODY_MOST + 1)),  # too long to read here
    ]
    for sent in cases:
        fast = await _raise(client, sent)
        framework = await _raise(client, sent, FRAMEWORK)
        assert fast.status_code in (400, 413, 422), fast.text
        assert _exact(fast, ()) == _exact(framework, ()), sent[:60]
    assert await _stored() == (0, 0)


async def test_a_robot_is_answered_by_the_framework_and_nothing_is_kept(
    client: httpx.AsyncClient,
) -> None:
    robot = concern(website="http://spam.example")
    fast, framework = [
        await _raise(client, robot, kind) for kind in ("application/json", FRAMEWORK)
    ]
    assert fast.status_code == 201
    assert _exact(fast) == _exact(framework)
    assert await _stored() == (0, 0)
