"""Fuzzing the API from its own description: schemathesis makes requests for every operation in
``/schema/openapi.json``, as anonymous and with an API token for every role, and checks each
answer: never a server error, only statuses the description lists, the content type and body
schema it promises, and no 2xx for a token-only operation without a valid token.

Schemathesis speaks to an application synchronously, from Hypothesis' thread; the service and its
database live on the tests' event loop. :class:`InProcess` joins them: a WSGI application that
hands each request to the service on that loop, so the probes schemathesis's checks send on
their own (the same request with the token taken away) reach the same service and database.

Each identity's run starts from a seeded database (entries on the register, an application, the
caller and another user) and sometimes puts the ids and numbers of those records into the
addresses it generates, so requests find real things and not only 404s. Operations that can take
the caller's own access away (revoking a token, changing a user's roles or deactivating them)
run last, each example as its own new user of the same role.

Bounded and reproducible: Hypothesis is derandomised (see conftest.py) and each operation gets
:data:`POSITIVE_EXAMPLES` valid and :data:`NEGATIVE_EXAMPLES` invalid examples per identity.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import itertools
import operator
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.accounts import tokens, users
from registry.accounts.roles import Role
from registry.conduct import workflow
from registry.conduct.tables import Stage
from registry.config import Settings
from tests.certificates.helpers import live_certificate
from tests.conduct.helpers import PDF, attach_document, case_at, people
from tests.register.applying import submitted_application
from tests.register.helpers import put_on_register
from tests.support import BASE_URL, asgi_transport

POSITIVE_EXAMPLES = 12
NEGATIVE_EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]
# Operations that can take away the access of whoever calls them.
DESTRUCTIVE = {
    ("DELETE", "/api/v1/me/tokens/{token_id}"),
    ("PATCH", "/api/v1/admin/users/{user_id}"),
}
IDENTITIES: list[Role | None] = [None, *Role]

T = TypeVar("T")


class InProcess:
    """A WSGI application that serves each request with the service, on the tests' loop."""

    def __init__(self, app: Litestar, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = asgi_transport(app)
        self.loop = loop

    def run(self, work: Awaitable[T]) -> T:
        """Run ``work`` on the tests' loop and wait for it (from any other thread)."""

        async def awaited() -> T:
            return await work

        return asyncio.run_coroutine_threadsafe(awaited(), self.loop).result(timeout=120)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[[str, list[tuple[str, str]]], Any]
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        # Werkzeug's client does not decompress, so the answer is asked for uncompressed.
        # Header values are Latin-1 in WSGI as on the wire; they go on as those bytes.
        headers = [
            (name[5:].replace("_", "-").lower(), value.encode("latin-1"))
            for name, value in environ.items()
            if name.startswith("HTTP_") and name != "HTTP_ACCEPT_ENCODING"
        ]
        if environ.get("CONTENT_TYPE"):
            headers.append(("content-type", environ["CONTENT_TYPE"].encode("latin-1")))
        # WSGI gives the path decoded, as Latin-1; the raw address is sent on as it came.
        path = environ.get("RAW_URI") or quote(environ["PATH_INFO"].encode("latin-1"), safe="/")
        if "?" not in path and environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        request = httpx.Request(
            environ["REQUEST_METHOD"], BASE_URL + path, headers=headers, content=body
        )
        status, answer_headers, content = self.run(self._send(request))
        start_response(status, answer_headers)
        return [content]

    async def _send(self, request: httpx.Request) -> tuple[str, list[tuple[str, str]], bytes]:
        response = await self.transport.handle_async_request(request)
        content = b"".join([chunk async for chunk in response.aiter_raw()])
        status = f"{response.status_code} {response.reason_phrase}"
        answered = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.headers.raw
        ]
        return status, answered, content


@dataclass
class Caller:
    """Who sends a request, and the records of theirs an address may name."""

    role: Role | None
    token: str = ""
    known: dict[str, list[Any]] = field(default_factory=dict)

    def headers(self) -> dict[str, str] | None:
        return {"Authorization": f"Bearer {self.token}"} if self.token else None


_serial = itertools.count(1)


async def new_caller(role: Role | None, known: dict[str, list[Any]]) -> Caller:
    """A new user holding ``role`` with an API token (nobody, for anonymous), who may name
    their own account and token as well as the seeded records."""
    if role is None:
        return Caller(None, known=known)
    account = await users.create_user(
        f"fuzz.{role.value}.{next(_serial)}@example.org", f"Fuzz {role.value}", [role]
    )
    summary, token = await tokens.issue_api_token(account.id, "fuzzing")
    own = {"user_id": [account.id], "token_id": [summary.id]}
    names = {*known, *own}
    return Caller(role, token, {name: known.get(name, []) + own.get(name, []) for name in names})


@dataclass
class Seeds:
    """What the run knows exists: values for parameters by name, and whole bodies (as
    strategies) by operation."""

    known: dict[str, list[Any]]
    bodies: dict[str, st.SearchStrategy[Any]]


async def seed(data_dir: Path, client: httpx.AsyncClient) -> Seeds:
    """Records for addresses to name: entries on the register (and so certificates and their
    status lists), an application, a user and their token, and the ETags of an entry and the
    lists as a client that kept them would send them back."""
    applicant = await users.create_user(
        "fuzz.applicant@example.org", "Ada Applicant", [Role.practitioner]
    )
    await submitted_application(data_dir, applicant, given="Ada", family="Applicant")
    entries = [
        await put_on_register("Jane", "Smith", account_id=applicant.id),
        await put_on_register("Siân", "O'Neill", region="wales"),
    ]
    number = entries[0].registration_number
    typed = f"{number[:2].lower()} {number[2:5]}-{number[5:]}"
    await tokens.issue_api_token(applicant.id, "seeded")
    listed = await tokens.list_api_tokens(applicant.id)
    certificate = await live_certificate(entries[0].id)
    lists = ["revocation", "suspension"]  # made as the entries' certificates were issued
    kept = [f"/api/v1/register/{number}", *(f"/status-lists/{name}" for name in lists)]
    etags = [(await client.get(address)).headers["etag"] for address in kept]
    known: dict[str, list[Any]] = {
        "If-None-Match": [*etags, f'"other", {etags[0]}'],
        "name": lists,
        "registration_number": [entry.registration_number for entry in entries] + [typed],
        "user_id": [applicant.id],
        "token_id": [summary.id for summary in listed],
    }
    verifiable = st.one_of(
        st.sampled_from([certificate.display_serial, certificate.serial.lower()]).map(
            lambda serial: {"serial": serial}
        ),
        st.just({"credential": certificate.credential}),
        tampered(certificate.credential).map(lambda credential: {"credential": credential}),
    )
    conduct = await seed_conduct(data_dir)
    return Seeds(known | conduct.known, {"POST /api/v1/verify": verifiable} | conduct.bodies)


async def seed_conduct(data_dir: Path) -> Seeds:
    """A fitness to practise case under investigation with a document not yet disclosed, for
    the case and document operations to find, and bodies that reach past validation: the case's
    version for a disclosure, a real PDF for a concern's attachment."""
    who = await people("fuzz.pat@example.org")
    case_id = await case_at(Stage.investigation, who)
    document_id = await attach_document(data_dir, case_id)
    version = (await workflow.get_case(case_id)).version
    return Seeds(
        {"case_id": [case_id], "document_id": [document_id]},
        {
            "POST /api/v1/cases/{case_id}/documents/{document_id}/disclosure": st.just(
                {"version": version}
            ),
            "POST /api/v1/concerns/attachments": st.just({"data": PDF}),
        },
    )


def _json_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=8,
    )


def _places(document: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path to every value inside ``document``."""
    children = (
        document.items()
        if isinstance(document, dict)
        else enumerate(document)
        if isinstance(document, list)
        else ()
    )
    for key, value in children:
        yield (*at, key)
        yield from _places(value, (*at, key))


def tampered(document: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``document`` with one value anywhere in it replaced by other JSON, or taken out."""
    places = list(_places(document))

    @st.composite
    def tamper(draw: st.DrawFn) -> dict[str, Any]:
        changed = copy.deepcopy(document)
        *way, last = draw(st.sampled_from(places))
        holder = functools.reduce(operator.getitem, way, changed)
        if draw(st.booleans()) and isinstance(holder, dict):
            del holder[last]
        else:
            holder[last] = draw(_json_values())
        return changed

    return tamper()


@dataclass
class Tally:
    """What one identity's run did: examples per operation and the statuses answered."""

    examples: Counter[tuple[str, GenerationMode]] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def operations(self) -> set[str]:
        return {operation for operation, _ in self.examples}

    def line(self, who: str) -> str:
        valid, invalid = (
            sum(n for (_, mode), n in self.examples.items() if mode is wanted)
            for wanted in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        )
        statuses = " ".join(f"{code}:{count}" for code, count in sorted(self.statuses.items()))
        return (
            f"fuzzed as {who}: {len(self.operations())} operations, {valid} valid and {invalid} "
            f"invalid examples; statuses {statuses}"
        )


def _operations(schema: Any) -> Iterator[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    # Whatever can take the caller's access away goes last.
    yield from sorted(found, key=lambda op: (op.method.upper(), op.path) in DESTRUCTIVE)


def _takes_input(operation: Any) -> bool:
    """Whether there is anything to make invalid: a parameter or a body."""
    return next(iter(operation.iter_parameters()), None) is not None or len(operation.body) > 0


# Where a seeded value may stand in for a generated one.
SEEDED_LOCATIONS = ("path_parameters", "headers")


def _seeded(operation: Any, known: dict[str, list[Any]]) -> st.SearchStrategy[list[Any]]:
    """Sometimes (or never, when nothing is known) a seeded value for each path parameter and
    header that has one, as (where, name, value)."""
    wanted = [
        (parameter.location.container_name, parameter.name)
        for parameter in operation.iter_parameters()
        if known.get(parameter.name) and parameter.location.container_name in SEEDED_LOCATIONS
    ]
    if not wanted:
        return st.just([])
    picked = st.tuples(
        *(
            st.tuples(st.just(where), st.just(name), st.sampled_from(known[name]))
            for where, name in wanted
        )
    )
    return st.one_of(st.just([]), picked.map(list))


def fuzz_operation(
    bridge: InProcess,
    operation: Any,
    mode: GenerationMode,
    examples: int,
    caller: Caller,
    seeds: Seeds,
    tally: Tally,
) -> None:
    """Run ``examples`` generated requests against one operation (in Hypothesis' thread)."""
    label = f"{operation.method.upper()} {operation.path}"
    destructive = (operation.method.upper(), operation.path) in DESTRUCTIVE

    @settings(
        max_examples=examples,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        picks=st.data(),
    )
    def run(case: Case[Any], picks: st.DataObject) -> None:
        who = bridge.run(new_caller(caller.role, caller.known)) if destructive else caller
        if mode.is_positive:
            for where, name, value in picks.draw(_seeded(operation, who.known)):
                setattr(case, where, {**(getattr(case, where) or {}), name: value})
            if label in seeds.bodies and picks.draw(st.booleans()):
                case.body = picks.draw(seeds.bodies[label])
        response = case.call_and_validate(headers=who.headers(), checks=CHECKS)
        tally.examples[(label, mode)] += 1
        tally.statuses[response.status_code] += 1

    try:
        run()
    # Every operation is fuzzed and every failure reported; schemathesis reports its checks'
    # failures as a BaseExceptionGroup.
    except (Exception, BaseExceptionGroup) as failure:
        tally.failures.append(f"{label} ({mode.value}) as {caller.role or 'anonymous'}:\n{failure}")


@pytest.mark.parametrize("role", IDENTITIES, ids=lambda role: role.value if role else "anonymous")
async def test_every_operation_holds_to_the_description(
    app: Litestar, client: httpx.AsyncClient, settings: Settings, role: Role | None
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    bridge = InProcess(app, asyncio.get_running_loop())
    schema = schemathesis.openapi.from_dict(document)
    schema.app = bridge
    seeds = await seed(settings.data_dir, client)
    caller = await new_caller(role, seeds.known)
    tally = Tally()

    def fuzz() -> None:
        for operation in _operations(schema):
            runs = [(GenerationMode.POSITIVE, POSITIVE_EXAMPLES)]
            if _takes_input(operation):
                runs.append((GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES))
            for mode, examples in runs:
                fuzz_operation(bridge, operation, mode, examples, caller, seeds, tally)

    await asyncio.to_thread(fuzz)
    print(tally.line(role.value if role else "anonymous"))  # the run's figures, under -s
    assert not tally.failures, "\n\n".join(tally.failures)
    assert len(tally.operations()) == len(list(schema.get_all_operations()))
