"""The hot public paths against the framework's own ceiling (issue 17), measured in one run and
written to its own section of bench/RESULTS.md (between markers; the rest is left alone).

For each engine it makes a fresh database, migrates it and bulk-seeds it (bench/seed.py), serves
it as the README runs it in production (``registry serve``: granian, production settings, JSON
request logs on) and serves the reference beside it: ``bench/bare.py``, a bare Litestar app with
one JSON route and no middleware, under the same granian settings. wrk (1 thread, keep-alive
connections) drives each endpoint in turn, interleaved in rounds so both see the same machine:

- ``bare``: GET /bare on the reference app;
- P1 ``lookup``: GET /api/v1/register/{number}, a random seeded number (bench/entry.lua);
- P1b ``page``: GET /register/{number}, the same entry as an HTML page;
- P2b ``search``: GET /api/v1/register?q=smi, a common name prefix;

each ratio = the endpoint's median req/s ÷ the bare app's median req/s. On PostgreSQL it then
serves with two granian workers (the bare app too) and runs the lookup again: P9 = lookup req/s
with 2 workers ÷ with 1. P7 is the peak resident memory (``VmHWM`` in /proc) of the service's
worker process after all its load.

Usage::

    .venv/bin/python -m bench.throughput --engine both     # ~8 minutes, writes RESULTS.md
    .venv/bin/python -m bench.throughput --quick           # ~1 minute; RESULTS.md untouched

``run(args)`` returns the results for a suite to call; ``main`` parses, runs and writes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bare_server import BareServer  # noqa: E402
from bench.register_bench import (  # noqa: E402
    BENCH_DIR,
    Database,
    Server,
    WrkRun,
    _migrate,
    fresh_database,
    loadavg,
    log,
    machine,
    machine_busy,
    median,
    run_wrk,
    seed,
)
from bench.results_file import write_section  # noqa: E402
from bench.suite import Row, postgres_url  # noqa: E402

RESULTS = BENCH_DIR / "RESULTS.md"
START = "<!-- throughput.py: start -->"
END = "<!-- throughput.py: end -->"
SEARCH_QUERY = "smi"
ENDPOINTS = ("bare", "lookup", "page", "search")
# (figure, what, target, engines it applies to)
TARGETS: dict[str, tuple[str, float]] = {
    "P1 sqlite": ("lookup ÷ bare", 0.5),
    "P1 postgres": ("lookup ÷ bare", 0.35),
    "P1b": ("page ÷ bare", 0.25),
    "P2b": ("search ÷ bare", 0.2),
    "P9": ("lookup, 2 workers ÷ 1 worker", 1.7),
    "P7": ("peak RSS of a worker, MB", 200.0),
}


@contextlib.contextmanager
def both_serving(database: Database, workdir: Path, workers: int) -> Iterator[tuple[Any, Any]]:
    service = Server(database, workdir, workers)
    try:
        bare = BareServer(workdir, workers)
        try:
            yield service, bare
        finally:
            bare.stop()
    finally:
        service.stop()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (granian's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident set (VmHWM) among the processes below ``pid``, in MB."""
    peaks = [0.0]
    for child in descendants(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def target_for(endpoint: str, server: Server, bare: BareServer) -> list[str]:
    if endpoint == "bare":
        return [f"{bare.base}/bare"]
    if endpoint == "lookup":
        return [f"{server.base}/api/v1/register/", "-s", str(BENCH_DIR / "entry.lua")]
    if endpoint == "page":
        return [f"{server.base}/register/", "-s", str(BENCH_DIR / "entry.lua")]
    return [f"{server.base}/api/v1/register?q={SEARCH_QUERY}"]


def drive(
    server: Server,
    bare: BareServer,
    endpoints: Sequence[str],
    args: argparse.Namespace,
    env: dict[str, str],
    label: str,
) -> list[WrkRun]:
    def one(endpoint: str, seconds: float) -> WrkRun:
        watched: Any = bare if endpoint == "bare" else server
        path_env = {**env, "BENCH_PATH": "/register/"} if endpoint == "page" else env
        target = target_for(endpoint, server, bare)
        return run_wrk(watched, endpoint, seconds, args.connections, path_env, target)

    for endpoint in endpoints:  # warm up: imports, caches, connection pools
        one(endpoint, args.warmup)
    runs: list[WrkRun] = []
    for round_number in range(args.rounds):
        order = endpoints if round_number % 2 == 0 else list(endpoints)[::-1]
        for endpoint in order:
            run = one(endpoint, args.duration)
            log(
                f"  {label} round {round_number + 1} {endpoint:7}: {run.rps:7.0f} req/s, "
                f"p50 {run.p50_ms:.2f} ms, server CPU {run.server_cpu:.2f}, "
                f"machine {run.machine_cpu:.2f}; errors {run.errors}"
            )
            if run.errors:
                raise RuntimeError(f"{endpoint}: {run.errors} failed requests")
            runs.append(run)
    return runs


@dataclass
class EngineResult:
    engine: str
    entries: int
    runs: dict[int, list[WrkRun]] = field(default_factory=dict)  # by granian workers
    peak_rss_mb: float = 0.0

    def rps(self, endpoint: str, workers: int = 1) -> float:
        return median([r.rps for r in self.runs.get(workers, []) if r.endpoint == endpoint])

    def ratio(self, endpoint: str, workers: int = 1) -> float:
        return self.rps(endpoint, workers) / self.rps("bare", workers)

    def figures(self) -> dict[str, tuple[float, str]]:
        """Each figure with its measured value and how it was made."""
        out = {
            f"P1 {self.engine}": (
                self.ratio("lookup"),
                f"{self.rps('lookup'):,.0f} ÷ {self.rps('bare'):,.0f}",
            ),
            "P1b": (self.ratio("page"), f"{self.rps('page'):,.0f} ÷ {self.rps('bare'):,.0f}"),
            "P2b": (
                self.ratio("search"),
                f"{self.rps('search'):,.0f} ÷ {self.rps('bare'):,.0f}",
            ),
            "P7": (self.peak_rss_mb, "VmHWM of the worker after every run"),
        }
        if 2 in self.runs:
            out["P9"] = (
                self.rps("lookup", 2) / self.rps("lookup"),
                f"{self.rps('lookup', 2):,.0f} ÷ {self.rps('lookup'):,.0f} "
                f"(bare: {self.rps('bare', 2):,.0f} ÷ {self.rps('bare'):,.0f})",
            )
        return out


def passes(figure: str, value: float) -> bool:
    target = TARGETS[figure][1]
    return value <= target if figure == "P7" else value >= target


def run_engine(engine: str, args: argparse.Namespace) -> EngineResult:
    database = fresh_database(engine, "throughput", args.workdir, args.postgres_url)
    try:
        log(f"{engine}: migrating and seeding {args.entries:,} entries")
        asyncio.run(_migrate(database.url, args.workdir))
        report = seed(database, args.entries, quiet=True)
        env = {"BENCH_FIRST_SERIAL": str(report.first_serial), "BENCH_COUNT": str(report.count)}
        result = EngineResult(engine, args.entries)
        with both_serving(database, args.workdir, workers=1) as (server, bare):
            result.runs[1] = drive(server, bare, ENDPOINTS, args, env, f"{engine} 1w")
            result.peak_rss_mb = peak_rss_mb(server.process.pid)
        if engine == "postgres" and args.workers > 1:
            with both_serving(database, args.workdir, workers=args.workers) as (server, bare):
                result.runs[2] = drive(
                    server, bare, ("bare", "lookup"), args, env, f"{engine} {args.workers}w"
                )
                result.peak_rss_mb = max(result.peak_rss_mb, peak_rss_mb(server.process.pid))
        return result
    finally:
        database.cleanup()


def run(args: argparse.Namespace) -> list[EngineResult]:
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    owned = args.workdir is None
    if owned:
        args.workdir = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    try:
        return [run_engine(engine, args) for engine in engines]
    finally:
        if owned:
            shutil.rmtree(args.workdir, ignore_errors=True)


def section(results: list[EngineResult], meta: dict[str, Any], args: argparse.Namespace) -> str:
    out = [
        START,
        "## Hot paths against the bare framework (issue 17)",
        "",
        f"Run {meta['started']} UTC, {meta['elapsed']}, `{meta['command']}`. Written by "
        "`bench/throughput.py`. The reference is `bench/bare.py` (bare Litestar, one JSON route, "
        "no middleware) served by granian like `registry serve`, in the same run; the service "
        "runs with production settings and JSON request logs. wrk: 1 thread, "
        f"{args.connections} keep-alive connections, {args.rounds} interleaved rounds of "
        f"{args.duration:g} s per endpoint after a {args.warmup:g} s warm-up; "
        f"{args.entries:,} seeded entries.",
        "",
        "| figure | engine | what | measured | target | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        for figure, (value, how) in result.figures().items():
            what, target = TARGETS[figure]
            shown = f"{value:.0f} MB" if figure == "P7" else f"{value:.2f} ({how})"
            bound = f"≤ {target:.0f} MB" if figure == "P7" else f"≥ {target}"
            verdict = "**pass**" if passes(figure, value) else "**FAIL**"
            name = figure.split()[0]
            out.append(f"| {name} | {result.engine} | {what} | {shown} | {bound} | {verdict} |")
    out += [
        "",
        "| engine | workers | endpoint | median req/s | rounds | p50 ms | p99 ms | server CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        for workers, runs in result.runs.items():
            for endpoint in dict.fromkeys(r.endpoint for r in runs):
                mine = [r for r in runs if r.endpoint == endpoint]
                out.append(
                    f"| {result.engine} | {workers} | {endpoint} | "
                    f"{median([r.rps for r in mine]):,.0f} | "
                    f"{', '.join(f'{r.rps:,.0f}' for r in mine)} | "
                    f"{median([r.p50_ms for r in mine]):.2f} | "
                    f"{median([r.p99_ms for r in mine]):.2f} | "
                    f"{median([r.server_cpu for r in mine]):.2f} |"
                )
    out += [
        "",
        f"Machine: {meta['cpus']} CPUs ({meta['cpu']}), Python {meta['python']}; the machine "
        f"was {meta['machine busy']} busy over the run, load average at the end "
        f"{meta['load average']}. wrk shares the CPUs with the server, so with two workers on "
        "two CPUs P9 is bounded by the machine, not the service: compare it with the bare app's "
        "own scaling in the same row.",
        END,
    ]
    return "\n".join(out) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="granian workers for P9")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--postgres-url",
        default=postgres_url(),
    )
    parser.add_argument("--quick", action="store_true", help="small and short; RESULTS untouched")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.entries, args.rounds, args.duration, args.warmup = 1000, 1, 2.0, 1.0
    return args


WHAT = {
    "P1": "public lookup `GET /api/v1/register/{number}`",
    "P1b": "a public page `/register/{number}` (HTML)",
    "P2b": f"name search throughput `?q={SEARCH_QUERY}`",
    "P7": "peak RSS of one worker under the P1 load",
    "P9": "scaling: P1 with 2 granian workers ÷ with 1",
}
QUICK = "quick run: not timed"


NOTES = {
    "P1": "The lookup is answered before the framework (registry.web.fastpath) by one indexed "
    "read of the stored public document. Where a worker's time goes (py-spy on the granian "
    "worker under wrk, and the ASGI app called in-process, CPU time, min of 5 runs): most of it "
    "is granian and asyncio's own per-request cost, the same as the bare app's (a future "
    "watcher and a `call_soon_threadsafe` with a self-pipe write per `send`, the socket write). "
    "The service's own Python is 34 µs a lookup on SQLite against 21 µs for the bare app's "
    "Litestar route (46 µs before the request line was written directly and request ids and "
    "nonces cut from batches of random bytes): the SQLite read itself ~11 µs in the loop's "
    "thread, the request context (id, nonce, security headers, the log line) ~6 µs. On "
    "PostgreSQL the read is a round trip to a server on the same two cores: it goes to one of "
    "a few connections of the engine's own (`db.fetch_one_by_key`), not through the pool "
    "(an acquire, and a release through `asyncio.shield`, a reset and timers per request), "
    "with a generic plan (the pool plans every statement again). When all four are lent (under "
    "wrk's 32 connections, most of the time) a lookup waits for one, in the order they asked, "
    "rather than going to the pool: served on PostgreSQL (wrk -c32, load average ~4.5-5.4, "
    "before and after interleaved) PostgreSQL's CPU per lookup went from ~125 to ~60 µs and "
    "the server's from ~285 to ~225 µs; in this suite's runs (load average ~5.5-6.5) the ratio "
    "went from 0.37 to 0.51 and P9 from 0.98 to 1.15.",
    "P1b": "The entry page's frame is rendered once; each entry's own blocks are kept with the "
    "document they were made from (`KeptPages`) and given again only for the very same "
    "document, read fresh every time. A kept page costs the lookup's read plus a fresh form "
    "token (an HMAC) and filling in the nonce and the token: in process (the ASGI app called "
    "directly, SQLite, CPU time) ~45 µs against the lookup's ~31 µs. A page not kept renders its "
    "own blocks: entry.html writes out the GOV.UK summary list and warning text and the status "
    "tag as their macros render them (tests/register/test_entry_markup.py gives each back to its "
    "macro call and compares the pages), which took the blocks from ~270 to ~60 µs and a page "
    "not kept from ~430-460 to ~200-300 µs in process, load average ~5. What is left of a miss: "
    "Jinja itself (attribute lookups, escaping, four strftime calls, the roles and "
    "qualifications joined by filters), one context for the blocks (~9 µs: it copies the "
    "environment's globals), the frame's navigation key (~8 µs), the document's parse (~7 µs), "
    "cutting and keeping the pieces. The figure still depends on how many of the 10,000 entries "
    "wrk has asked for (a uniform draw): under wrk on SQLite (16 connections, load average ~5) "
    "the server spent ~370 µs a page in the first 5 s (mostly misses), ~230 µs once most were "
    "kept, against ~155 µs a lookup; of a kept page's extra ~75 µs about 25 is system time "
    "(a ~7.3 KB body against the lookup's ~0.7 KB) and the rest granian's and the service's "
    "handling of the larger answer, the form token and its cookie. Measured again with every "
    "page kept (wrk over 1,000 entries, PostgreSQL, load average ~6-8): a kept page cost the "
    "server ~13-50 µs more than a lookup (median of three ~35). Of that, granian's own "
    "handling of the page's answer (its 7.2 KB body and nine headers, with the cookie and the "
    "CSP) against the lookup's (0.5 KB, seven headers) is ~9 µs (a bare granian ASGI app "
    "answering each, wrk -c32), and the service's Python ~13 µs in process: the form token "
    "(~4 µs, an HMAC; `hmac.digest` is no faster), `fill` (~2 µs), the kept page's lookup "
    "and its document compared. py-spy on the worker shows no other per-request work on a "
    "kept page that could be done once; the rest of the gap under wrk is the machine's noise "
    "and, in this suite's P1b runs over 10,000 entries, the pages not yet kept.",
    "P2b": "A name search reads the name keys (`register_name_key`): the count stops at 1,001 "
    "(for `smi` on 10,000 entries, 269 keys: ~25-45 µs on SQLite) and the page of 20 is a "
    "short range of the key's index joined to the entries (~17-36 µs). On PostgreSQL both are "
    "one statement (one round trip). Planning it took more of PostgreSQL's CPU than running it "
    "(EXPLAIN ANALYZE: ~0.25 ms planning, ~0.12 ms execution), and the pool plans every "
    "statement every time (`plan_cache_mode = force_custom_plan`, since a generic plan cannot "
    "see how rare a name is). A search by a name key (or a number) and nothing else has one "
    "plan whatever the key (the key's index range in name order), so it now reads on "
    "connections of the engine's own with PostgreSQL's default plan caching "
    "(`db.fetch_all_by_key`), which settles on the generic plan after five runs; when all four "
    "are lent a read waits for one rather than go to the pool and be planned again. Searches "
    "with a region, role or status are still planned each time. Served under wrk (load "
    "average 4-8 on 2 cores): PostgreSQL's backends ~500 µs of CPU a search before, ~170-260 "
    "after; the worker ~570 µs before, ~300-450 after. Where the time goes now: in process, "
    "~200-250 µs of the worker's CPU a search against ~130 for a lookup, most of it the round "
    "trip (the kernel's loopback TCP and asyncpg, ~90 µs for 20 rows of ~500 bytes against "
    "~40 for one), then the ETag (SHA-256 of the ~10 kB body, ~20 µs), the body and the query "
    "folded into its keys (~10 µs each); PostgreSQL ~120-150 µs (the count ~40, the 20 "
    "entries ~60, the round trip ~30). On SQLite it is unchanged (two reads in the loop's "
    "thread).",
    "P7": "A worker's peak resident memory (VmHWM from /proc) read after every load of the run "
    "(lookups, pages and searches at 32 connections, the highest kept). A worker starts at about "
    "110 MB once it has imported the service and answered its first request (Litestar and the "
    "domains' routes, Jinja's compiled templates, reportlab and the signing keys for "
    "certificates); the load adds the connections and the statements prepared on them (the "
    "pool and the key- and range-read connections on PostgreSQL, the loop's and the thread's "
    "connections with their page caches on SQLite), the signed-out page frames and granian's "
    "buffers. Nothing kept grows with the requests: every answer is read afresh from the stored "
    "documents, and what is remembered between requests is bounded (client addresses parsed, "
    "4,096; compiled statements, 256; signing keys, 16).",
    "P9": "Not a property of the service on this machine: wrk, PostgreSQL and the granian "
    "workers share two cores. With one worker the machine is already nearly full (the worker "
    "~1.1-1.3 cores, PostgreSQL and wrk the rest: machine CPU ~1.7 of 2), and every part grows "
    "with the requests, so a second worker can add at most 2 ÷ 1.7, about 1.18 times, which is "
    "what it gives; the bare app, with no database, gains ~1.1 times for the same reason. 1.7 "
    "times needs the load generator and the database off the workers' cores (4 cores or more).",
}


def measure(engine: str, *, quick: bool) -> list[Row]:
    """The suite's P1, P1b, P2b, P7 and (PostgreSQL) P9 for ``engine``, from one run."""
    (result,) = run(parse_args(["--engine", engine, *(["--quick"] if quick else [])]))
    rows = []
    for figure, (value, how) in result.figures().items():
        row_id = figure.split()[0]
        what, target = TARGETS[figure]
        stated = f"≤ {target:g} MB" if row_id == "P7" else f"≥ {target:g}"
        if quick:
            rows.append(Row(row_id, WHAT[row_id], what, float("nan"), stated, None, QUICK))
        else:
            rows.append(Row(row_id, WHAT[row_id], what, value, stated, passes(figure, value), how))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    clock = time.perf_counter()
    busy_before = machine_busy()
    results = run(args)
    busy_after = machine_busy()
    busy = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1)
    environment = machine()
    meta = {
        "started": f"{started:%Y-%m-%d %H:%M}",
        "elapsed": f"{(time.perf_counter() - clock) / 60:.1f} minutes",
        "command": " ".join(["bench/throughput.py", *(sys.argv[1:] if argv is None else argv)]),
        "cpus": environment["cpus (nproc)"],
        "cpu": environment["cpu"],
        "python": platform.python_version(),
        "machine busy": f"{busy:.0%}",
        "load average": loadavg(),
    }
    text = section(results, meta, args)
    if not args.quick:
        write_section(text, args.results, START, END)
        log(f"wrote its section of {args.results}")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
