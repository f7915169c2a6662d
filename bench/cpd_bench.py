"""CPD at scale, as issue 14 asks (issue 17 rows P5 and P8), measured in one run and written to
its own section of bench/RESULTS.md (between markers; the rest of the file is left alone).

For each engine it:

1. makes a fresh database, migrates it and, through the service's own rules, puts three
   practitioners on the register: one with 10 activities this registration year, one with
   1,000, and one who logs activities while the benchmark runs (each with an API token and a
   browser session, made directly: no argon2 anywhere);
2. times a year's progress in process (the service call alone), 10 vs 1,000, interleaved;
3. serves it with ``registry serve`` (granian, one worker, production settings, JSON logs) next
   to the bare reference (bench/bare.py, the same granian settings), and loads both with wrk,
   interleaved in rounds: GET /bare; POST /api/v1/me/cpd/activities (bench/cpd_write.lua);
   GET /api/v1/me/cpd/progress (every year of the record, as the API answers it by default) and
   the CPD dashboard page, each for the 10- and the 1,000-activity practitioner.

Targets: progress with 1,000 activities costs at most 3 times progress with 10 (cost ratio = req/s
with 10 ÷ req/s with 1,000); logging an activity reaches at least 0.1 of the bare endpoint's
req/s.

Usage::

    .venv/bin/python -m bench.cpd_bench --engine both             # ~8 minutes
    .venv/bin/python -m bench.cpd_bench --engine sqlite --quick   # ~30 s, RESULTS.md untouched
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bare_server import serving_bare  # noqa: E402
from bench.register_bench import (  # noqa: E402
    BENCH_DIR,
    SECRET,
    Database,
    WrkRun,
    _migrate,
    fresh_database,
    loadavg,
    log,
    machine,
    machine_busy,
    median,
    run_wrk,
    serving,
)
from bench.results_file import write_section  # noqa: E402
from bench.suite import Row, postgres_url  # noqa: E402

RESULTS = BENCH_DIR / "RESULTS.md"
START = "<!-- cpd_bench.py: start -->"
END = "<!-- cpd_bench.py: end -->"
TARGET_PROGRESS_RATIO = 3.0
TARGET_WRITE_RATIO = 0.1
# The writes and their reference run under the load issue 17 measures every throughput with
# (wrk -c32, as bench/throughput.py's lookups): many people at once, each waiting for their answer.
# Progress and the dashboard, timed against each other (P5), keep fewer connections: the
# 1,000-activity dashboard would spend the run queueing.
LOADED = ("bare", "write", "concern")
ENDPOINTS = (
    "bare",
    "write",
    "concern",
    "progress small",
    "progress large",
    "dashboard small",
    "dashboard large",
)
AREAS = ("risk_assessment", "ethics", "victims", "desistance")


# --- the practitioners --------------------------------------------------------------------------


@dataclass
class Practitioner:
    activities: int
    token: str  # API bearer token
    session: str  # browser session cookie value
    owner: Any = None


@dataclass
class Prepared:
    year: int
    first: date  # the first day of the current registration year
    today: date
    people: dict[str, Practitioner]  # "small", "large", "writer"
    service_ms: dict[str, list[float]] = field(default_factory=dict)


async def _practitioner(given: str, count: int, first: date, today: date) -> Practitioner:
    from registry.accounts import sign_in, tokens, users
    from registry.accounts.roles import Role
    from registry.cpd import activities
    from registry.cpd.activities import Owner
    from registry.cpd.schemas import ActivityIn
    from registry.register import service
    from registry.register.renewals import RenewalCalendar

    account = await users.create_user(
        f"{given.lower()}@bench.example", f"{given} Bench", [Role.practitioner], None
    )
    _, token = await tokens.issue_api_token(account.id, "bench")
    session = await sign_in.start_session(account, "127.0.0.1", "bench")
    entry = await service.create_entry(
        service.EntryIn(
            person=service.PersonIn(given, "Bench", date(1980, 1, 1)),
            role_codes=("probation_officer",),
            region_code="london",
            registered_since=date(2015, 1, 1),
            registered_until=date(today.year + 1, 11, 30),
            account_id=account.id,
        ),
        reason="Benchmark",
    )
    owner = Owner(account.id, entry.practitioner_id, entry.id, date(2015, 1, 1))
    calendar = RenewalCalendar()
    span = (today - first).days + 1
    for number in range(count):
        data = ActivityIn.model_validate(
            {
                "title": f"Activity {number}",
                "done_on": first + timedelta(days=number % span),
                "hours": Decimal(number % 8 + 1) / 4,
                "activity_type": "reading_research" if number % 3 else "formal_course",
                "participatory": number % 2 == 0,
                "practice_areas": [AREAS[number % 4]],
                "what_happened": "A" if number % 5 == 0 else "",
                "what_learned": "B",
                "practice_changed": "C",
                "peer_reflection": number % 7 == 0,
                "peer_role": "Senior probation officer" if number % 7 == 0 else "",
            }
        )
        await activities.record_for(owner, data, calendar)
    return Practitioner(count, token, session, owner)


async def _prepare(url: str, data_dir: Path, args: argparse.Namespace) -> Prepared:
    from registry.config import Settings
    from registry.core import clock
    from registry.cpd import activities, progress
    from registry.db import bind_engine, create_engine
    from registry.register.renewals import RenewalCalendar

    settings = Settings(database_url=url, data_dir=data_dir, secret_key=SECRET, environment="test")
    engine = create_engine(settings)
    await engine.start()
    try:
        bind_engine(engine)
        calendar = RenewalCalendar.from_settings(settings)
        today = clock.now().date()
        year = activities.registration_year(today, calendar)
        first = activities.year_bounds(year, calendar)[0]
        people = {
            "small": await _practitioner("Small", args.small, first, today),
            "large": await _practitioner("Large", args.large, first, today),
            "writer": await _practitioner("Writer", 0, first, today),
        }
        timings: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(args.service_rounds):
            for label in timings:
                started = time.perf_counter()
                await progress.year_progress(people[label].owner, year, calendar, declared=set())
                timings[label].append((time.perf_counter() - started) * 1000)
    finally:
        await engine.stop()
    return Prepared(year, first, today, people, timings)


# --- the bare reference -------------------------------------------------------------------------


def settle(*servers: Any, quiet: float = 0.05, longest: float = 120.0) -> None:
    """Wait until the servers are idle: when wrk stops, a server may still be answering what it
    had queued (seconds of dashboard pages on a busy machine), which would be billed to the next
    endpoint measured."""
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        before = sum(server.cpu_seconds() for server in servers)
        time.sleep(0.5)
        if sum(server.cpu_seconds() for server in servers) - before < quiet * 0.5:
            return


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom else float("nan")


@dataclass
class EngineResult:
    engine: str
    service_ms: dict[str, list[float]]
    runs: list[WrkRun]
    written: int  # activities the writer's log held at the end
    plan: str = ""  # progress's aggregate query for the large log's year

    def median_rps(self, endpoint: str) -> float:
        return median([r.rps for r in self.runs if r.endpoint == endpoint])

    def cost_ratio(self, what: str) -> float:
        """req/s with the small log ÷ req/s with the large: how much more the large costs."""
        return _ratio(self.median_rps(f"{what} small"), self.median_rps(f"{what} large"))

    @property
    def write_ratio(self) -> float:
        return _ratio(self.median_rps("write"), self.median_rps("bare"))

    @property
    def concern_ratio(self) -> float:
        return _ratio(self.median_rps("concern"), self.median_rps("bare"))

    def cpu_ms(self, endpoint: str) -> float:
        """Server CPU milliseconds per request (median over the rounds)."""
        return median(
            [r.server_cpu * 1000 / r.rps for r in self.runs if r.endpoint == endpoint and r.rps]
        )

    def cpu_ratio(self, endpoint: str) -> float:
        """``endpoint``'s req/s ÷ bare's if each had the same CPU: bare's CPU per request ÷
        the endpoint's. On a saturated machine the bare server gets little of it, so its req/s
        is low and the plain ratio flatters the endpoint; this one does not."""
        return _ratio(self.cpu_ms("bare"), self.cpu_ms(endpoint))

    @property
    def write_cpu_ratio(self) -> float:
        return self.cpu_ratio("write")

    @property
    def service_ratio(self) -> float:
        return _ratio(median(self.service_ms["large"]), median(self.service_ms["small"]))

    def round_ratios(self, top: str, bottom: str) -> list[float]:
        tops = [r.rps for r in self.runs if r.endpoint == top]
        bottoms = [r.rps for r in self.runs if r.endpoint == bottom]
        return [_ratio(t, b) for t, b in zip(tops, bottoms, strict=False)]


def _check(port: int, method: str, path: str, headers: dict[str, str], want: int) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, headers=headers)
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    if answer.status != want:
        raise RuntimeError(f"{method} {path} answered {answer.status}, not {want}: {body[:300]!r}")
    return body


def _count_activities(database: Database, practitioner_id: int) -> int:
    query = f"SELECT COUNT(*) FROM cpd_activity WHERE practitioner = {int(practitioner_id)}"
    if database.engine == "sqlite":
        import sqlite3

        with sqlite3.connect(database.sqlite_path) as connection:
            return int(connection.execute(query).fetchone()[0])

    async def fetch() -> int:
        import asyncpg

        connection = await asyncpg.connect(database.url)
        try:
            return int(await connection.fetchval(query))
        finally:
            await connection.close()

    return asyncio.run(fetch())


def explain_progress(database: Database, practitioner_id: int, first: date, last: date) -> str:
    """The plan of progress's sums for one practitioner's year as every-year progress runs them
    (grouped by year; PostgreSQL: EXPLAIN ANALYZE, so with the time it took)."""
    from registry.cpd.progress import YEARLY_FIGURES
    from registry.db import _compile

    sql = YEARLY_FIGURES.format(year=f"CASE WHEN a.done_on <= {{}} THEN {last.year} END")
    values = (last, practitioner_id, first, last)
    if database.engine == "sqlite":
        import sqlite3

        with sqlite3.connect(database.sqlite_path) as connection:
            rows = connection.execute(
                "EXPLAIN QUERY PLAN " + _compile(sql, "sqlite"),
                [v.isoformat() if isinstance(v, date) else v for v in values],
            ).fetchall()
        return "\n".join(str(row[-1]) for row in rows)

    async def fetch() -> str:
        import asyncpg

        connection = await asyncpg.connect(database.url)
        try:
            await connection.execute("ANALYZE")
            rows = await connection.fetch(
                "EXPLAIN (ANALYZE, COSTS OFF) " + _compile(sql, "postgres"), *values
            )
            return "\n".join(row[0] for row in rows)
        finally:
            await connection.close()

    return asyncio.run(fetch())


def run_engine(engine: str, args: argparse.Namespace) -> EngineResult:
    workdir = Path(tempfile.mkdtemp(prefix=f"cpd-bench-{engine}-"))
    database = fresh_database(engine, "cpd", workdir, args.postgres_url)
    try:
        asyncio.run(_migrate(database.url, workdir))
        log(f"{engine}: logging {args.small:,} and {args.large:,} activities through the service")
        prepared = asyncio.run(_prepare(database.url, workdir, args))
        people = prepared.people
        plan = explain_progress(
            database, people["large"].owner.practitioner_id, prepared.first, prepared.today
        )
        # Behind a load balancer (127.0.0.1, where wrk runs): each concern comes from its own
        # address, so the per-address limit counts people, not the benchmark's one socket.
        proxied = {"REGISTRY_TRUSTED_PROXIES": "127.0.0.1"}
        with (
            serving(database, workdir, 1, proxied) as server,
            serving_bare(workdir) as bare,
        ):
            csrf = server.csrf_cookie
            bearer = {label: f"Authorization: Bearer {p.token}" for label, p in people.items()}
            cookie = {
                label: f"Cookie: registry_session={p.session}; {csrf}"
                for label, p in people.items()
            }
            for label in ("small", "large"):  # each answers before it is timed
                _check(
                    server.port,
                    "GET",
                    "/api/v1/me/cpd/progress",
                    {"authorization": bearer[label].split(": ", 1)[1]},
                    200,
                )
                _check(server.port, "GET", "/cpd/", {"cookie": cookie[label][8:]}, 200)
            targets: dict[str, tuple[Any, list[str]]] = {
                "bare": (bare, [f"{bare.base}/bare"]),
                "write": (
                    server,
                    [
                        f"{server.base}/api/v1/me/cpd/activities",
                        "-s",
                        str(BENCH_DIR / "cpd_write.lua"),
                    ],
                ),
                "concern": (
                    server,
                    [
                        f"{server.base}/api/v1/concerns",
                        "-s",
                        str(BENCH_DIR / "concern_submit.lua"),
                    ],
                ),
            }
            for size in ("small", "large"):
                targets[f"progress {size}"] = (
                    server,
                    ["-H", bearer[size], f"{server.base}/api/v1/me/cpd/progress"],
                )
                targets[f"dashboard {size}"] = (
                    server,
                    ["-H", cookie[size], f"{server.base}/cpd/"],
                )
            env = {
                "BENCH_TOKEN": people["writer"].token,
                "BENCH_LAST": prepared.today.isoformat(),
                "BENCH_DAYS": str((prepared.today - prepared.first).days + 1),
            }

            def wrk(endpoint: str, seconds: float) -> WrkRun:
                target_server, target = targets[endpoint]
                # A slow answer is a slow answer, not an error: wrk's 2 s default would count it
                # as a timeout on a busy machine (the dashboard with 1,000 activities).
                target = ["--timeout", f"{args.timeout:g}s", *target]
                settle(server, bare)
                connections = args.write_connections if endpoint in LOADED else args.connections
                return run_wrk(target_server, endpoint, seconds, connections, env, target)

            for endpoint in ENDPOINTS:
                wrk(endpoint, args.warmup)
            runs: list[WrkRun] = []
            for round_number in range(args.rounds):
                order = ENDPOINTS if round_number % 2 == 0 else ENDPOINTS[::-1]
                for endpoint in order:
                    run = wrk(endpoint, args.duration)
                    log(
                        f"  round {round_number + 1} {endpoint:14}: {run.rps:6.0f} req/s, p50 "
                        f"{run.p50_ms:.2f} ms, server CPU {run.server_cpu:.2f}, machine "
                        f"{run.machine_cpu:.2f}, errors {run.errors}"
                    )
                    runs.append(run)
        written = _count_activities(database, people["writer"].owner.practitioner_id)
        runs.sort(key=lambda r: ENDPOINTS.index(r.endpoint))
        return EngineResult(engine, prepared.service_ms, runs, written, plan)
    finally:
        database.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


# --- RESULTS.md ---------------------------------------------------------------------------------


def _verdict(passed: bool) -> str:
    return "**pass**" if passed else "**fail**"


def section(results: list[EngineResult], meta: dict[str, Any], args: argparse.Namespace) -> str:
    big, few = f"{args.large:,}", f"{args.small:,}"
    out = [
        START,
        "## CPD: progress with 1,000 activities vs 10, and logging an activity vs bare",
        "",
        f"Latest run: {meta['started']} UTC, {meta['elapsed']}, `{meta['command']}`. Written by "
        "`bench/cpd_bench.py`; every ratio is taken within this one run.",
        "",
        f"| engine | progress API: cost {big} ÷ {few} (target ≤ 3) | dashboard page: cost {big} ÷ "
        f"{few} | service call: cost {big} ÷ {few} | log an activity: req/s ÷ bare "
        "(target ≥ 0.1) | log an activity: bare's server CPU a request ÷ its own | raise a "
        "concern: req/s ÷ bare (target ≥ 0.1) | raise a concern: bare's server CPU a request ÷ "
        "its own |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        progress_ratio = r.cost_ratio("progress")
        out.append(
            f"| {r.engine} | {progress_ratio:.2f} ({r.median_rps('progress small'):,.0f} ÷ "
            f"{r.median_rps('progress large'):,.0f} req/s) "
            f"{_verdict(progress_ratio <= TARGET_PROGRESS_RATIO)} | "
            f"{r.cost_ratio('dashboard'):.2f} ({r.median_rps('dashboard small'):,.0f} ÷ "
            f"{r.median_rps('dashboard large'):,.0f} req/s) | "
            f"{r.service_ratio:.2f} ({median(r.service_ms['large']):.2f} ÷ "
            f"{median(r.service_ms['small']):.2f} ms) | "
            f"{r.write_ratio:.3f} ({r.median_rps('write'):,.0f} ÷ {r.median_rps('bare'):,.0f} "
            f"req/s) {_verdict(r.write_ratio >= TARGET_WRITE_RATIO)} | "
            f"{r.write_cpu_ratio:.3f} ({r.cpu_ms('bare'):.2f} ÷ {r.cpu_ms('write'):.2f} ms of "
            "server CPU a request) | "
            f"{r.concern_ratio:.3f} ({r.median_rps('concern'):,.0f} ÷ "
            f"{r.median_rps('bare'):,.0f} req/s) "
            f"{_verdict(r.concern_ratio >= TARGET_WRITE_RATIO)} | "
            f"{r.cpu_ratio('concern'):.3f} ({r.cpu_ms('bare'):.2f} ÷ {r.cpu_ms('concern'):.2f} ms"
            " of server CPU a request) |"
        )
    out += [
        "",
        f"wrk, 1 thread, {args.write_connections} keep-alive connections for `bare`, `write` "
        f"and `concern` and {args.connections} for the others ({args.timeout:g} s timeout), "
        f"{args.rounds} rounds of "
        f"{args.duration:g} s per endpoint, alternating the order, after a {args.warmup:g} s "
        "warm-up each; the service is one granian worker (`registry serve`, production settings, "
        "JSON logs) and `bare` is bench/bare.py under the same granian settings, served at the "
        "same time. `write` = POST /api/v1/me/cpd/activities with a practitioner's bearer token, "
        "a random day of the open year (bench/cpd_write.lua); `progress` = GET "
        "/api/v1/me/cpd/progress (every registration year of the record since 2015) for the "
        f"practitioner with {few} (small) or {big} (large) activities this year; `dashboard` = "
        "GET /cpd/ with their session "
        "(the year's progress and its list of activities, so it grows with the log: shown, not a "
        f"target). The service call is `progress.year_progress` in process, median of "
        f"{args.service_rounds} interleaved calls each.",
        "",
        "| engine | endpoint | median req/s | rounds (req/s) | p50 ms | p99 ms | server CPU |"
        " machine CPU | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        for endpoint in ENDPOINTS:
            runs = [x for x in r.runs if x.endpoint == endpoint]
            out.append(
                f"| {r.engine} | {endpoint} | {r.median_rps(endpoint):,.0f} | "
                + ", ".join(f"{x.rps:,.0f}" for x in runs)
                + f" | {median([x.p50_ms for x in runs]):.2f} | "
                f"{median([x.p99_ms for x in runs]):.2f} | "
                f"{median([x.server_cpu for x in runs]):.2f} | "
                f"{median([x.machine_cpu for x in runs]):.2f} | {sum(x.errors for x in runs)} |"
            )
    out += [""]
    for r in results:
        rounds = ", ".join(f"{x:.2f}" for x in r.round_ratios("progress small", "progress large"))
        writes = ", ".join(f"{x:.3f}" for x in r.round_ratios("write", "bare"))
        out.append(
            f"Per round, {r.engine}: progress cost ratio {rounds}; write ÷ bare {writes}; "
            f"the writer's log held {r.written:,} activities at the end."
        )
    for r in results:
        out += [
            "",
            f"Plan of progress's aggregate query for the large log's year, {r.engine}:",
            "",
            "```",
            r.plan,
            "```",
        ]
    out += [
        "",
        *meta["notes"],
        "",
        f"Machine: {meta['cpus']} CPUs ({meta['cpu']}), Python {meta['python']}; the machine was "
        f"{meta['machine busy']} busy over the run (every process, this one's included), load "
        f"average at the end {meta['load average']}. Other work shares these CPUs: absolute "
        "rates are low and noisy; the ratios, from interleaved rounds, are what to compare.",
        END,
    ]
    return "\n".join(out) + "\n"


FINDINGS = [
    "Where the time goes, progress. Progress for every year of a record is 4 queries however "
    "many years and activities (the sums and the practice areas grouped by year in one pass "
    "over the covering index `cpd_activity_practitioner_date`, the packs, the exemptions; it "
    "was 3 a year, 42 for a record since 2015), plus the owner and the declared years; the "
    "large log adds only the index range the sums read (plans above; PostgreSQL scans the "
    "table because the benchmark's holds about a thousand rows, all but ten of them the large "
    "log's). The dashboard grows with the log because it lists every activity of the year; "
    "pages are not this benchmark's target.",
    "Where the time goes, logging an activity. The write is answered before the framework "
    "(registry.web.fastpath, FAST_WRITES): the caller authenticated as the middleware does (the "
    "bearer token with its account and roles read by the token's hash, afresh on every request), "
    "the route's access row applied, the body read as the framework reads it (msgspec's JSON, "
    "then ActivityIn) and the same service call; anything it cannot take goes to the framework "
    "with the whole body, having stored nothing. SQLite: 2 reads (the token; the owner with "
    "whether the year was declared, the pack in force and the practice areas and standards "
    "named, as JSON rows, in one statement) and one short transaction (the activity, its links, "
    "the audit chain's last hash and the entry), all in the event loop's thread. The short "
    "transaction is a member of a group commit (registry.db.ShortSQLiteTransaction), and the "
    "fast writes announce themselves before their bodies are read (registry.db.write_coming): "
    "the group is committed once every write announced has joined it, or 5 ms after it opened. "
    "Before that, served, the group was committed two turns of the loop after its first member, "
    "while the other requests were still being received from granian's threads, and nearly "
    "every group held one write; in process 8 writes now share each COMMIT (82 -> 40 us of "
    "COMMIT a write). Served, same machine, A/B in one sitting: 1,094-1,150 -> 1,295-1,486 writes "
    "a second, with the cheaper audit spelling (plain() by exact type: 27 -> 13 us an entry), "
    "the items read folded into the owner's and the client address parsed once. PostgreSQL: "
    "2 round trips: the token read, then one call of the database function "
    "cpd_record_if_simple (migration 2026-11-28T11:40), which reads the owner, the year, the "
    "pack and the items and writes the activity, its links and its audit entry only when every "
    "check holds in SQL (otherwise it writes nothing and the checks in Python, on what it read, "
    "refuse as ever, or a declared year with a reason takes the old write); a function so that "
    "its plan is kept (the pool plans every statement afresh, ~400 us of PostgreSQL's CPU for "
    "this one). The audit entry is hashed in Python around a mark where the pack's id goes "
    "(as audit_append already takes the time and the target's id). In process: worker CPU "
    "~630-770 -> 500-580 us a write, PostgreSQL's 650-770 -> 430-490 us. The call goes through "
    "group commit (registry.db.fetch_one_batched): sent at once when nothing is on its way, "
    "else with every write made meanwhile as one pipelined, atomic fetchmany as soon as the "
    "batch before is answered: one commit and one WAL flush for them all, while the service "
    "works on the next requests. Served under 8 connections: ~910-1,170 (batches waiting for "
    "announced writes, which left one side idle while the other worked) -> 1,270-1,340 writes a "
    "second, against bare's 13,000-17,700. The writes and their bare reference now run under 32 "
    "connections, the load issue 17 measures every throughput with (the lookups' too): in the "
    "quiet run of 2026-11-28 15:33-15:38 UTC PostgreSQL logged 2,750-3,100 activities a second "
    "against bare's 25,700-27,100 and SQLite 2,640-3,110 against 23,100-31,300; bare gained as "
    "much from the connections as the writes did. In process (8 at once, PostgreSQL) a write "
    "costs the worker ~270 us of CPU and PostgreSQL ~225 us (its backends, the WAL writer "
    "included). The one-call functions keep their plans for the connection, foreign key checks "
    "included, and run with enable_seqscan off (migration 2026-11-28T15:40): a plan made while "
    "a table was nearly empty read it whole ever after (see P8b).",
    "Raising a concern (P8b) is public and limited to 10 an hour per client address; the "
    "benchmark runs the server behind a trusted proxy (`REGISTRY_TRUSTED_PROXIES=127.0.0.1`, "
    "the setting a deployment behind a load balancer uses) and sends each request from its own "
    "`X-Forwarded-For` address (bench/concern_submit.lua), so the limit counts people, as it "
    "would in service. A concern sent with no credential at all (no Authorization or Cookie "
    "header) is answered before the framework (an anonymous WriteRoute): the honeypot, what "
    "the schema refuses, an attachment token that does not hold and the service's refusals "
    "before its transaction go to the framework having stored nothing; the one refusal after "
    "storing, the attempt one too many from an address (kept with its audit entry), is "
    "answered by the fast path as the framework's handler words it, so it is never counted "
    "twice. It is one short transaction of compiled statements (registry/conduct/concerns.py): "
    "the chosen categories read first, then the attempt counted under the address's lock, the "
    "case, the concern, its categories, the case event, the acknowledgement email in the outbox "
    "and the audit entry. Served on SQLite, A/B in one sitting: 765-797 -> 1,016-1,045 concerns "
    "a second with the fast path and group commit waiting for announced writes, then the text "
    "checks by character class (control and direction characters, 6 -> 0.3 us a field): "
    "1,208-1,547 in the quiet run. What is left on SQLite, per concern in process (~0.77 ms of "
    "CPU): ~0.36 ms of SQLite statements, the dearest the audit entry's insert (~80 us: six "
    "indexes, one of them the unique index on the entry's hash, whose random keys cost ~30 us "
    "an insert measured alone), the case's (~60), the outbox's (~50) and the concern's (~50), "
    "and the COMMIT's share (~65 us of a group of 8); two indexes other indexes cover "
    "(conduct_case_stage, conduct_concern_category_concern) are gone, and the checks' reads run "
    "in the write's transaction. PostgreSQL: the whole concern is one call of the database's "
    "conduct_raise_if_simple (the reads, the attempt counted under the address's lock, the "
    "case, the concern, the email and the audit entry), sent with fetch_one_batched, so the "
    "concerns of one moment share one round trip and one commit (in process, 16 at once: ~8 "
    "round trips a concern -> ~0.13, the service's CPU ~1.0 -> ~0.4 ms a concern); anything it "
    "cannot decide (a lock held elsewhere, one attempt too many, an unknown kind) takes the "
    "step-by-step path, about 8 round trips as before. Served, its first run fell from ~2,900 "
    "concerns a second to ~250 within a minute: the function's kept plans had been made on "
    "empty conduct tables, so the foreign key checks read conduct_case whole twice a concern "
    "and the concern and attempt tables once (pg_stat_user_tables: 138 million rows read over "
    "12,000 concerns, no index scan; this machine's PostgreSQL runs without autovacuum, whose "
    "ANALYZE would have had them planned again). With enable_seqscan off for the function "
    "alone every read is by index and the rate holds: 2,735-3,077 a second in the quiet run "
    "(0.11 of bare). SQLite, 2,212-2,586 (0.08): its statements run in the loop's thread, one "
    "after another; what is left is those statements (about half of a concern's CPU in "
    "process, above) and the service's Python around them.",
    "What bounds PostgreSQL: audited writes are serialised (the chain's advisory lock) and "
    "the lock is held until the commit has flushed the WAL, because the next append must see "
    "this one committed to link to it. A single-row autocommit INSERT took a median 1.1 ms "
    "(p90 3 ms) here, and pg_test_fsync measured fdatasync of one 8 kB write at ~0.6 ms: one "
    "at a time, at most ~900-1,600 audited writes a second. Group commit (fetch_one_batched) "
    "takes that bound away for the CPD write: a batch is one transaction and one flush. What "
    "bounds it now is CPU: the service's and PostgreSQL's (~0.27 and ~0.23 ms a write in "
    "process) on a 2-core machine shared with wrk, and a batch's statements run one after "
    "another in one backend (they would queue on the chain's lock in several). Relaxing "
    "durability for the chain "
    "(synchronous_commit off loses acknowledged writes in a crash) is not acceptable for the "
    "register.",
]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=8, help="for progress and the dashboard")
    parser.add_argument(
        "--write-connections",
        type=int,
        default=32,
        help="for the writes and the bare reference they are divided by",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="wrk's request timeout")
    parser.add_argument("--service-rounds", type=int, default=200)
    parser.add_argument("--small", type=int, default=10, help="activities in the small log")
    parser.add_argument("--large", type=int, default=1000, help="activities in the large log")
    parser.add_argument(
        "--postgres-url",
        default=postgres_url(),
    )
    parser.add_argument("--quick", action="store_true", help="small and short; RESULTS untouched")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup, args.service_rounds = 1, 2.0, 1.0, 5
        args.large = 50
    return args


def measure(engine: str, *, quick: bool) -> list[Row]:
    """The suite's P5 (progress, 1,000 activities ÷ 10) and P8 (the CPD write ÷ bare) for
    ``engine``, from one run of this benchmark."""
    args = parse_args(["--engine", engine, *(["--quick"] if quick else [])])
    result = run_engine(engine, args)
    what5 = f"CPD progress with {args.large:,} activities"
    measure5 = (
        f"API time ÷ with {args.small} activities (req/s with {args.small} ÷ with {args.large:,})"
    )
    what8 = "writes: CPD activity create"
    what8b = "writes: concern submission (public, one address each)"
    measure8 = "req/s ÷ bare req/s"
    if quick:
        return [
            Row("P5", what5, measure5, float("nan"), f"≤ {TARGET_PROGRESS_RATIO:g}", None, QUICK),
            Row("P8", what8, measure8, float("nan"), f"≥ {TARGET_WRITE_RATIO:g}", None, QUICK),
            Row("P8b", what8b, measure8, float("nan"), f"≥ {TARGET_WRITE_RATIO:g}", None, QUICK),
        ]
    progress_ratio, write_ratio = result.cost_ratio("progress"), result.write_ratio
    rounds = result.round_ratios("progress small", "progress large")
    return [
        Row(
            "P5",
            what5,
            measure5,
            progress_ratio,
            f"≤ {TARGET_PROGRESS_RATIO:g}",
            progress_ratio <= TARGET_PROGRESS_RATIO,
            "rounds " + ", ".join(f"{r:.2f}" for r in rounds),
        ),
        Row(
            "P8",
            what8,
            measure8,
            write_ratio,
            f"≥ {TARGET_WRITE_RATIO:g}",
            write_ratio >= TARGET_WRITE_RATIO,
            f"{result.median_rps('write'):,.0f} ÷ {result.median_rps('bare'):,.0f} req/s; per "
            f"server CPU second {result.write_cpu_ratio:.3f}",
        ),
        Row(
            "P8b",
            what8b,
            measure8,
            result.concern_ratio,
            f"≥ {TARGET_WRITE_RATIO:g}",
            result.concern_ratio >= TARGET_WRITE_RATIO,
            f"{result.median_rps('concern'):,.0f} ÷ {result.median_rps('bare'):,.0f} req/s; per "
            f"server CPU second {result.cpu_ratio('concern'):.3f}",
        ),
    ]


QUICK = "quick run: not timed"
# For the suite's table: where each row's time goes (the findings above, by row).
NOTES = {"P5": FINDINGS[0], "P8": f"{FINDINGS[1]} {FINDINGS[3]}", "P8b": FINDINGS[2]}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    started = datetime.now(UTC)
    clock = time.perf_counter()
    busy_before = machine_busy()
    results = [run_engine(engine, args) for engine in engines]
    busy_after = machine_busy()
    busy = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1)
    environment = machine()
    meta = {
        "started": f"{started:%Y-%m-%d %H:%M}",
        "elapsed": f"{(time.perf_counter() - clock) / 60:.1f} minutes",
        "command": " ".join(["bench/cpd_bench.py", *(sys.argv[1:] if argv is None else argv)]),
        "cpus": environment["cpus (nproc)"],
        "cpu": environment["cpu"],
        "python": platform.python_version(),
        "machine busy": f"{busy:.0%}",
        "load average": loadavg(),
        "notes": FINDINGS,
    }
    text = section(results, meta, args)
    if not args.quick:
        write_section(text, args.results, START, END)
        log(f"wrote its section of {args.results}")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
