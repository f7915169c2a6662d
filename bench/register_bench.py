"""The register's speed, as issue 5 asks for it, measured in one run and written to RESULTS.md.

For each engine (SQLite, PostgreSQL) and each size (10,000 and 1,000,000 entries by default) it:

1. makes a fresh database (a new SQLite file; a new PostgreSQL database, dropped afterwards),
   migrates it and bulk-seeds it with bench/seed.py;
2. serves it with ``registry serve`` (granian, one worker), as the README runs it in production
   (``REGISTRY_ENVIRONMENT=production``, JSON logs);
3. checks that a change is seen on the very next request (service.move_entry, then GET at once);
4. (a) loads it with wrk from a second process: GET /api/v1/register/{number} for random seeded
   numbers, and the bare JSON liveness endpoint /health (no database work), interleaved in
   rounds; ratio = median requests/s of the entry / median requests/s of /health;
5. (b) times name searches (GET /api/v1/register?q=...) one at a time over a keep-alive
   connection, a fixed mix of common and rare prefixes; ratio = median at the large size /
   median at the small size. It also times search() in-process (no HTTP) and its two SQL
   statements (the page and the capped count) straight against the database, with their plans.

Usage::

    .venv/bin/python bench/register_bench.py --engine both            # 10k and 1M: ~20 minutes
    .venv/bin/python bench/register_bench.py --engine sqlite --quick  # 2k and 50k: ~1 minute

PostgreSQL: ``--postgres-url`` (or ``REGISTRY_BENCH_POSTGRES_URL``) names a server and a database
to connect to while creating the benchmark's own; default postgresql://root@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import io
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.results_file import write_results  # noqa: E402
from bench.seed import SeedReport, seed_postgres, seed_sqlite  # noqa: E402
from bench.suite import QUICK, Row  # noqa: E402

BENCH_DIR = ROOT / "bench"
RESULTS = BENCH_DIR / "RESULTS.md"
README = ROOT / "README.md"
REGISTRY = Path(sys.executable).with_name("registry")
SECRET = "benchmark-secret-key-that-is-long-enough-0123456789"
TARGET_RPS_RATIO = 0.5
TARGET_SEARCH_RATIO = 2.0
# Queries whose plans RESULTS.md shows: a common prefix, a surname + given name, with a region.
EXPLAINED = ("smi", "smi jo", "smi region=london")

# The search mix: (search, kind). Common surname prefixes, surname + given-name prefixes (as
# people type them), given names alone, and rare names from the long tail, with and without a
# region or status filter: "smi region=london" is q=smi&region=london (see search_params).
SEARCHES: list[tuple[str, str]] = [
    ("smi", "common prefix"),
    ("jon", "common prefix"),
    ("wil", "common prefix"),
    ("tay", "common prefix"),
    ("smi jo", "surname + given"),
    ("brown s", "surname + given"),
    ("wils ja", "surname + given"),
    ("jones emma", "surname + given"),
    ("olivia", "given name"),
    ("moham", "given name"),
    ("kowalczyk", "rare"),
    ("adebayo", "rare"),
    ("nguy", "rare"),
    ("zoe o'brien", "rare"),
    ("smi region=london", "filtered"),
    ("wils ja region=london", "filtered"),
    ("jones status=lapsed", "filtered"),
    ("smi jo status=registered", "filtered"),
    ("olivia region=london status=removed", "filtered"),
    ("adebayo region=london", "filtered"),
]


def search_params(search: str) -> dict[str, Any]:
    """``"smi jo region=london"`` -> ``{"query": "smi jo", "region": "london"}``."""
    words = search.split()
    params = dict(word.split("=", 1) for word in words if "=" in word)
    return {"query": " ".join(word for word in words if "=" not in word), **params}


def search_path(search: str) -> str:
    params = search_params(search)
    return "/api/v1/register?" + urllib.parse.urlencode({"q": params.pop("query"), **params})


# How search() finds names, for the notes (the design is registry/register/names.py's).
SEARCH_DESIGN = (
    "search() reads a page of names from `register_name_key` in name order and counts "
    "up to 1,001 there: one word by its first 1, 2, 3 or 5 letters, two words or more by "
    "a pair key (the first 1-5 letters of one word and the first 1 or 2 of another), the "
    "rest of each term checked on the name; a region or status filter by the copies of "
    "the entry's region and status in the keys, indexed with the key. So every search "
    "of the mix is a short index range that nearly all matches, at any size."
)


# --- small helpers ------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def tree_cpu_seconds(root_pid: int) -> float:
    """User + system CPU of a process and all its descendants, from /proc (Linux)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    wanted = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    return sum(times.get(pid, 0.0) for pid in wanted)


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of every CPU, from /proc/stat (Linux)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return float(sum(fields) - idle), float(sum(fields))


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- databases ----------------------------------------------------------------------------------


@dataclass
class Database:
    engine: str
    url: str
    cleanup: Callable[[], None]

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))


def _settings(url: str, data_dir: Path) -> Any:
    from registry.config import Settings

    return Settings(database_url=url, data_dir=data_dir, secret_key=SECRET, environment="test")


async def _migrate(url: str, data_dir: Path) -> None:
    from registry.db import create_engine, migrate

    engine = create_engine(_settings(url, data_dir))
    await engine.start()  # on SQLite this switches the file to WAL, as the server would
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Piccolo narrates every step
            await migrate(engine)
    finally:
        await engine.stop()


def fresh_database(engine: str, label: str, workdir: Path, postgres_url: str) -> Database:
    if engine == "sqlite":
        path = workdir / f"register-{label}.sqlite3"
        for old in workdir.glob(f"{path.name}*"):
            old.unlink()

        def remove() -> None:
            for old in workdir.glob(f"{path.name}*"):
                old.unlink()

        return Database("sqlite", f"sqlite:///{path}", remove)
    import asyncpg

    name = f"register_bench_{os.getpid()}_{label}"
    parts = urllib.parse.urlsplit(postgres_url)

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(postgres_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f"DROP DATABASE IF EXISTS {name}"))
    asyncio.run(admin(f"CREATE DATABASE {name}"))
    url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    return Database(
        "postgres", url, lambda: asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    )


def seed(database: Database, count: int, quiet: bool) -> SeedReport:
    every = max(count // 10, 1)

    def progress(done: int) -> None:
        if not quiet and (done % every < 20_000 or done == count):
            log(f"  seeded {done:,}/{count:,}")

    if database.engine == "sqlite":
        return seed_sqlite(database.sqlite_path, count, progress=progress)
    return asyncio.run(seed_postgres(database.url, count, progress=progress))


def database_size(database: Database) -> int:
    if database.engine == "sqlite":
        return sum(p.stat().st_size for p in database.sqlite_path.parent.glob("register-*"))

    async def size() -> int:
        import asyncpg

        connection = await asyncpg.connect(database.url)
        try:
            return int(await connection.fetchval("SELECT pg_database_size(current_database())"))
        finally:
            await connection.close()

    return asyncio.run(size())


# --- the server ---------------------------------------------------------------------------------


def registry_env(database: Database, workdir: Path, base_url: str) -> dict[str, str]:
    """The environment a ``registry`` command runs with against ``database``: production
    settings, JSON logs, and none of the caller's own REGISTRY_* variables."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")},
        "REGISTRY_DATABASE_URL": database.url,
        "REGISTRY_DATA_DIR": str(workdir),
        "REGISTRY_SECRET_KEY": SECRET,
        "REGISTRY_ENVIRONMENT": "production",
        "REGISTRY_LOG_FORMAT": "json",
        "REGISTRY_BASE_URL": base_url,
    }


class Server:
    """``registry serve`` (granian) in its own process group, logging to a file."""

    def __init__(
        self,
        database: Database,
        workdir: Path,
        workers: int,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{database.engine}-{self.port}.log"
        self._csrf_cookie = ""
        # ``settings``: REGISTRY_* variables beyond the production ones (a deployment's own).
        env = {**registry_env(database, workdir, self.base), **(settings or {})}
        command = [str(REGISTRY), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(workers)]
        self.log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=workdir,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()  # not left running: no caller holds it to stop it
            raise

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        answer = b""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped; see {self.log_path}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/ready")
                response = connection.getresponse()
                answer = response.read()
                connection.close()
                if response.status == 200:
                    return
            time.sleep(0.2)
        # /ready says why (pending migrations: the venv's `registry` is another checkout's code)
        raise RuntimeError(
            f"the server was not ready in {timeout:.0f} s; /ready last said {answer[:300]!r}; "
            f"see {self.log_path}"
        )

    @property
    def csrf_cookie(self) -> str:
        if not self._csrf_cookie:
            client = Client(self.port)
            try:
                _, headers, _ = client.get("/sign-in")
            finally:
                client.close()
            self._csrf_cookie = headers["set-cookie"].split(";", 1)[0]
        return self._csrf_cookie

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log_file.close()


@contextlib.contextmanager
def serving(
    database: Database, workdir: Path, workers: int, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    server = Server(database, workdir, workers, settings)
    try:
        yield server
    finally:
        server.stop()


class Client:
    """One keep-alive HTTP/1.1 connection: what a person's browser or script would hold."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        self.connection.request("GET", path, headers=headers or {})
        response = self.connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def close(self) -> None:
        self.connection.close()


# --- (a) requests per second ----------------------------------------------------------------------


@dataclass
class WrkRun:
    endpoint: str
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu: float  # CPU seconds the server used per wall second (1.0 = one core)
    wrk_cpu: float
    machine_cpu: float  # every process on the machine, PostgreSQL's included


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    server: Server,
    endpoint: str,
    seconds: float,
    connections: int,
    env: dict[str, str],
    target: Sequence[str] = (),
) -> WrkRun:
    """wrk against ``endpoint`` (entry, bare or bare without the cookie), or against ``target``
    (wrk's own arguments: a URL and any script) under the name ``endpoint``."""
    if target:
        target = list(target)
    elif endpoint == "entry":
        target = [f"{server.base}/api/v1/register/", "-s", str(BENCH_DIR / "entry.lua")]
    elif endpoint == "bare":
        # With the CSRF cookie a browser holds after its first page: without it, every answer
        # from outside /api/ mints a new token and sets the cookie (see "bare, no cookie").
        target = ["-H", f"Cookie: {server.csrf_cookie}", f"{server.base}/health"]
    else:
        target = [f"{server.base}/health"]
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", *target]
    busy_before, all_before = machine_busy()
    cpu_before = server.cpu_seconds()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_after = server.cpu_seconds()
    busy_after, all_after = machine_busy()
    output = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {m[0]: _ms(m[1], m[2]) for m in _LATENCY.findall(output)}
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(found.group(1))
    if found := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(g) for g in found.groups())
    wrk_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    return WrkRun(
        endpoint,
        seconds,
        rps,
        latency.get("50", float("nan")),
        latency.get("99", float("nan")),
        errors,
        (cpu_after - cpu_before) / wall,
        wrk_cpu / wall,
        (busy_after - busy_before) / (all_after - all_before) * (os.cpu_count() or 1),
    )


@dataclass
class Throughput:
    workers: int
    connections: int
    runs: list[WrkRun]

    def median_rps(self, endpoint: str) -> float:
        return median([r.rps for r in self.runs if r.endpoint == endpoint])

    @property
    def ratio(self) -> float:
        return self.median_rps("entry") / self.median_rps("bare")

    @property
    def round_ratios(self) -> list[float]:
        entries = [r.rps for r in self.runs if r.endpoint == "entry"]
        bares = [r.rps for r in self.runs if r.endpoint == "bare"]
        return [e / b for e, b in zip(entries, bares, strict=False)]

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)


def measure_throughput(
    server: Server, report: SeedReport, args: argparse.Namespace, workers: int
) -> Throughput:
    env = {"BENCH_FIRST_SERIAL": str(report.first_serial), "BENCH_COUNT": str(report.count)}
    endpoints: tuple[str, ...] = ("bare", "entry")
    if not args.quick:
        endpoints += ("bare, no cookie",)
    for endpoint in endpoints:  # warm up: imports, caches, connection pools
        run_wrk(server, endpoint, args.warmup, args.connections, env)
    runs: list[WrkRun] = []
    for round_number in range(args.rounds):
        order = endpoints if round_number % 2 == 0 else endpoints[::-1]
        for endpoint in order:
            run = run_wrk(server, endpoint, args.duration, args.connections, env)
            log(
                f"  round {round_number + 1} {endpoint:15}: {run.rps:6.0f} req/s, "
                f"p50 {run.p50_ms:.2f} ms, CPU: server {run.server_cpu:.2f}, wrk "
                f"{run.wrk_cpu:.2f}, machine {run.machine_cpu:.2f}; errors {run.errors}"
            )
            runs.append(run)
    runs.sort(key=lambda r: endpoints.index(r.endpoint))  # stable: rounds stay in order
    return Throughput(workers, args.connections, runs)


# --- (b) name search ------------------------------------------------------------------------------


@dataclass
class SearchTiming:
    query: str
    kind: str
    total: int
    samples_ms: list[float]

    @property
    def median_ms(self) -> float:
        return median(self.samples_ms)


def measure_search(server: Server, repeats: int) -> list[SearchTiming]:
    client = Client(server.port)
    timings: list[SearchTiming] = []
    try:
        for query, kind in SEARCHES:  # warm up, and learn each query's number of matches
            status, _, body = client.get(search_path(query))
            if status != 200:
                raise RuntimeError(f"search {query!r} answered {status}: {body[:200]!r}")
            timings.append(SearchTiming(query, kind, int(json.loads(body)["total"]), []))
        for _ in range(repeats):  # round-robin, so drift in the machine's load hits every query
            for timing in timings:
                path = search_path(timing.query)
                started = time.perf_counter()
                status, _, _ = client.get(path)
                timing.samples_ms.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"search {timing.query!r} answered {status}")
    finally:
        client.close()
    return timings


def search_statements(database: Database, workdir: Path) -> dict[str, dict[str, Any]]:
    """The SQL search() runs for each query of the mix, from the service itself."""
    from registry.db import bind_engine, create_engine
    from registry.register import search as public_register

    async def run() -> dict[str, dict[str, Any]]:
        engine = create_engine(_settings(database.url, workdir))
        bind_engine(engine)
        await engine.start()
        try:
            return {
                q: await public_register.search_statements(**search_params(q)) for q, _ in SEARCHES
            }
        finally:
            await engine.stop()

    return asyncio.run(run())


def _placeholders(engine: str, sql: str) -> str:
    if engine == "sqlite":
        return sql.replace("{}", "?")
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    return re.sub(r"\{\}", number, sql)


@dataclass
class SqlTiming:
    query: str
    variant: str
    median_ms: float


def measure_sql(
    database: Database, workdir: Path, repeats: int
) -> tuple[list[SqlTiming], dict[str, str]]:
    """Each SQL statement of the search, timed straight on the database."""
    statements = [
        (query, variant, _placeholders(database.engine, sql), args)
        for query, variants in search_statements(database, workdir).items()
        for variant, (sql, args) in variants.items()
    ]
    samples: dict[tuple[str, str], list[float]] = {(q, v): [] for q, v, _, _ in statements}
    plans: dict[str, str] = {}
    if database.engine == "sqlite":
        db = sqlite3.connect(f"file:{database.sqlite_path}?mode=ro", uri=True)
        try:
            for round_number in range(repeats + 1):
                for query, variant, sql, args in statements:
                    started = time.perf_counter()
                    db.execute(sql, args).fetchall()
                    if round_number:  # the first round warms the cache
                        samples[(query, variant)].append((time.perf_counter() - started) * 1000)
            for query, variant, sql, args in statements:
                if query in EXPLAINED:
                    rows = db.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()
                    plans[f"{variant}, q={query!r}"] = "\n".join(str(r[3]) for r in rows)
        finally:
            db.close()
    else:

        async def run() -> None:
            import asyncpg

            connection = await asyncpg.connect(database.url)
            try:
                for round_number in range(repeats + 1):
                    for query, variant, sql, args in statements:
                        started = time.perf_counter()
                        await connection.fetch(sql, *args)
                        if round_number:
                            samples[(query, variant)].append((time.perf_counter() - started) * 1000)
                for query, variant, sql, args in statements:
                    if query in EXPLAINED:
                        rows = await connection.fetch(
                            f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", *args
                        )
                        plans[f"{variant}, q={query!r}"] = "\n".join(r[0] for r in rows)
            finally:
                await connection.close()

        asyncio.run(run())
    timings = [SqlTiming(q, v, median(s)) for (q, v), s in samples.items()]
    return timings, plans


# --- the service in-process: search() without HTTP ------------------------------------------


@dataclass
class ServiceTiming:
    query: str
    kind: str
    total: int
    more: bool
    median_ms: float


def measure_service(database: Database, workdir: Path, repeats: int) -> list[ServiceTiming]:
    from registry.db import bind_engine, create_engine
    from registry.register import search as public_register

    async def run() -> list[ServiceTiming]:
        engine = create_engine(_settings(database.url, workdir))
        bind_engine(engine)
        await engine.start()
        try:
            first = {q: await public_register.search(**search_params(q)) for q, _ in SEARCHES}
            samples: dict[str, list[float]] = {q: [] for q, _ in SEARCHES}
            for _ in range(repeats):
                for query, _ in SEARCHES:
                    started = time.perf_counter()
                    await public_register.search(**search_params(query))
                    samples[query].append((time.perf_counter() - started) * 1000)
            return [
                ServiceTiming(
                    query, kind, first[query].total, first[query].more, median(samples[query])
                )
                for query, kind in SEARCHES
            ]
        finally:
            await engine.stop()

    return asyncio.run(run())


# --- a change is seen on the very next request --------------------------------------------------


@dataclass
class Freshness:
    ok: bool
    detail: str


def check_freshness(database: Database, server: Server, report: SeedReport) -> Freshness:
    """Change an entry's state through the service, then GET it at once (with the old ETag)."""
    from registry.db import bind_engine, create_engine
    from registry.register import service
    from registry.register.service import ENTRY_MOVES, EntryMove
    from registry.register.tables import EntryState

    number = report.number(0)
    client = Client(server.port)
    path = f"/api/v1/register/{number}"
    lines: list[str] = []
    ok = True

    async def change(move: EntryMove) -> float:
        engine = create_engine(_settings(database.url, server.log_path.parent))
        bind_engine(engine)
        await engine.start()
        try:
            await service.move_entry(report.first_entry_id, move, reason="benchmark check")
            return time.perf_counter()
        finally:
            await engine.stop()

    try:
        status, headers, body = client.get(path)
        before = json.loads(body)["status"]
        etag = headers["etag"]
        original = EntryState(before)
        # There and back again, by moves the register allows: off and restored, or the reverse.
        back = {
            EntryState.lapsed: EntryMove.lapse,
            EntryState.removed: EntryMove.removal,
            EntryState.voluntarily_removed: EntryMove.voluntary_removal,
        }
        moves = (
            (EntryMove.lapse, EntryMove.restoration)
            if original is EntryState.registered
            else (EntryMove.restoration, back[original])
        )
        for move in moves:
            state = ENTRY_MOVES[move].to
            committed = asyncio.run(change(move))
            status, headers, body = client.get(path, {"if-none-match": etag})
            gap_ms = (time.perf_counter() - committed) * 1000
            seen = json.loads(body)["status"] if status == 200 else f"HTTP {status}"
            found = client.get(f"/api/v1/register?q={number}")[2]
            in_search = json.loads(found)["items"][0]["status"]
            good = seen == state.value and in_search == state.value and headers["etag"] != etag
            ok = ok and good
            lines.append(
                f"{number}: {before} -> {state.value}; next GET (If-None-Match: old ETag) "
                f"answered {status} with status {seen}, ETag {etag} -> {headers['etag']}, "
                f"search shows {in_search} ({gap_ms:.1f} ms after the commit)"
            )
            before, etag = seen, headers["etag"]
    finally:
        client.close()
    return Freshness(ok, "; ".join(lines))


# --- one engine at one size ---------------------------------------------------------------------


@dataclass
class SizeResult:
    entries: int
    seed: dict[str, Any]
    database_mb: float
    throughput: list[Throughput]
    searches: list[SearchTiming]
    sql: list[SqlTiming]
    plans: dict[str, str]
    service: list[ServiceTiming]
    freshness: Freshness
    loadavg: str

    @property
    def search_median_ms(self) -> float:
        return median([s for t in self.searches for s in t.samples_ms])

    def kind_median_ms(self, kind: str) -> float:
        return median([s for t in self.searches if t.kind == kind for s in t.samples_ms])


def seeded_sqlite(label: str, count: int, workdir: Path) -> tuple[Database, SeedReport] | None:
    """A SQLite file an earlier run kept (``--keep``) with ``count`` entries, for ``--reuse``."""
    path = workdir / f"register-{label}.sqlite3"
    if not path.exists():
        return None
    db = sqlite3.connect(path)
    try:
        found, first_id, first_number = db.execute(
            "SELECT COUNT(*), MIN(id), MIN(registration_number) FROM register_entry"
        ).fetchone()
    finally:
        db.close()
    if found != count:
        return None
    report = SeedReport("sqlite", count, int(first_number[2:-1]), first_id)
    report.notes.append(f"reused {path.name}, seeded by an earlier run")
    return Database("sqlite", f"sqlite:///{path}", lambda: None), report


def run_size(
    engine: str, label: str, count: int, args: argparse.Namespace, *, throughput: bool = True
) -> SizeResult:
    """One engine at one size: seed, then (a) unless ``throughput`` is False (the suite's P2
    wants (b) alone), (b), the search's SQL and search() in-process."""
    reused = (
        seeded_sqlite(label, count, args.workdir) if args.reuse and engine == "sqlite" else None
    )
    database = (
        reused[0] if reused else fresh_database(engine, label, args.workdir, args.postgres_url)
    )
    try:
        if reused:
            report = reused[1]
        else:
            log(f"{engine} {count:,}: migrating")
            asyncio.run(_migrate(database.url, args.workdir))
            log(f"{engine} {count:,}: seeding")
            report = seed(database, count, args.quick)
        log(f"{engine} {count:,}: seeded in {report.seconds:.1f} s {report.notes or ''}")
        size_mb = database_size(database) / 1e6
        throughputs: list[Throughput] = []
        worker_counts = [1] + (
            [args.pg_workers] if engine == "postgres" and args.pg_workers > 1 else []
        )
        if not throughput:
            worker_counts = []
        with serving(database, args.workdir, workers=1) as server:
            freshness = check_freshness(database, server, report)
            log(f"{engine} {count:,}: fresh after a change: {freshness.ok}")
            if throughput:
                log(f"{engine} {count:,}: (a) throughput, 1 worker")
                throughputs.append(measure_throughput(server, report, args, workers=1))
            log(f"{engine} {count:,}: (b) search")
            searches = measure_search(server, args.search_repeats)
        log(f"{engine} {count:,}: search SQL, straight on the database")
        sql, plans = measure_sql(database, args.workdir, args.sql_repeats)
        log(f"{engine} {count:,}: search() in-process")
        in_process = measure_service(database, args.workdir, args.search_repeats)
        for workers in worker_counts[1:]:
            with serving(database, args.workdir, workers=workers) as server:
                log(f"{engine} {count:,}: (a) throughput, {workers} workers")
                throughputs.append(measure_throughput(server, report, args, workers=workers))
        return SizeResult(
            count,
            {"seconds": report.seconds, "steps": report.steps, "notes": report.notes},
            size_mb,
            throughputs,
            searches,
            sql,
            plans,
            in_process,
            freshness,
            loadavg(),
        )
    finally:
        if not args.keep:
            database.cleanup()


# --- reporting ------------------------------------------------------------------------------------


def versions(engines: Sequence[str], postgres_url: str) -> dict[str, str]:
    import granian
    import litestar
    import piccolo

    found = {
        "python": platform.python_version(),
        "granian": granian.__version__,
        "piccolo": piccolo.__VERSION__,
        "sqlite": sqlite3.sqlite_version,
    }
    with contextlib.suppress(Exception):
        import aiosqlite  # the server's SQLite is the one this Python links

        found["aiosqlite"] = aiosqlite.__version__
    release = litestar.__version__
    found["litestar"] = f"{release.major}.{release.minor}.{release.patch}"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    found["wrk"] = (wrk.stdout + wrk.stderr).split("[")[0].strip()
    if "postgres" in engines:

        async def server_version() -> str:
            import asyncpg

            connection = await asyncpg.connect(postgres_url)
            try:
                return str(await connection.fetchval("SHOW server_version"))
            finally:
                await connection.close()

        found["postgresql"] = asyncio.run(server_version())
    return found


def machine() -> dict[str, str]:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu": model,
        "memory": memory,
        "os": platform.platform(),
    }


def verdict(ok: bool) -> str:
    return "**pass**" if ok else "**FAIL**"


SETTINGS = (
    "entries_small",
    "entries_large",
    "connections",
    "rounds",
    "duration",
    "warmup",
    "search_repeats",
    "sql_repeats",
)


def run_meta(
    args: argparse.Namespace, engines: Sequence[str], started: datetime, elapsed: float
) -> dict[str, Any]:
    """What render() needs besides the figures, kept with them in RESULTS.json."""
    return {
        "started": started.isoformat(),
        "elapsed": elapsed,
        "command": " ".join(["bench/register_bench.py", *(sys.argv[1:])]),
        "environment": {**machine(), **versions(engines, args.postgres_url)},
        "settings": {key: getattr(args, key) for key in SETTINGS},
    }


def notes(results: dict[str, dict[str, SizeResult]], meta: dict[str, Any]) -> list[str]:
    """What the figures say, worked out from them (the reasoning is in the docstrings)."""
    out: list[str] = ["## Notes", ""]
    add = out.append
    cpus = int(meta["environment"].get("cpus (nproc)", os.cpu_count() or 1))
    runs = [
        r
        for sizes in results.values()
        for result in sizes.values()
        for t in result.throughput
        for r in t.runs
    ]
    busy = median([r.machine_cpu for r in runs])
    add(
        f"- **Load.** During the wrk runs the machine's {cpus} CPUs were {busy / cpus:.0%} busy "
        f"(median); the server itself got {median([r.server_cpu for r in runs]):.2f} of a core "
        f"and wrk {median([r.wrk_cpu for r in runs]):.2f}. wrk is not the bottleneck; the "
        "single granian worker is, sharing the CPUs with PostgreSQL and whatever else ran. "
        "Absolute requests/s are therefore low and noisy; the ratios, taken from interleaved "
        "rounds in one run, are what to compare."
    )
    for engine, sizes in results.items():
        big = sizes["large"]
        t = big.throughput[0]
        entry, bare = t.median_rps("entry"), t.median_rps("bare")
        extra_us = (1 / entry - 1 / bare) * 1e6
        line = (
            f"- **(a) {engine}.** One entry costs about {extra_us:,.0f} µs more than /health "
            f"per request (1/{entry:,.0f} - 1/{bare:,.0f} s): the lookup by number and the "
            "stored document, through the same middleware."
        )
        cookieless = t.median_rps("bare, no cookie")
        if cookieless == cookieless:  # not NaN: measured
            line += (
                f" Without the CSRF cookie /health manages {cookieless:,.0f} req/s, "
                f"{1 - cookieless / bare:.0%} fewer: every answer outside /api/ mints a CSRF "
                "token and sets the cookie."
            )
        add(line)
    for engine, sizes in results.items():
        big, little = sizes["large"], sizes["small"]

        def sql(result: SizeResult, query: str, variant: str) -> float:
            return next(
                t.median_ms for t in result.sql if t.query == query and t.variant == variant
            )

        ratio = big.search_median_ms / little.search_median_ms
        in_small = median([t.median_ms for t in little.service])
        in_big = median([t.median_ms for t in big.service])
        add(
            f"- **(b) {engine}.** The mix's median went from {little.search_median_ms:.2f} ms to "
            f"{big.search_median_ms:.2f} ms over HTTP ({ratio:.2f} times), and from "
            f"{in_small:.2f} to {in_big:.2f} ms in-process ({in_big / in_small:.2f} times). "
            + SEARCH_DESIGN
        )
        grew = [
            t
            for t in big.searches
            if t.median_ms
            > TARGET_SEARCH_RATIO * next(s.median_ms for s in little.searches if s.query == t.query)
        ]
        if grew:
            add(
                f"- **(b) {engine}, what still grows.** "
                + "; ".join(
                    f"`{t.query}` (page {sql(little, t.query, 'page'):.2f} → "
                    f"{sql(big, t.query, 'page'):.2f} ms, count {sql(little, t.query, 'count'):.2f}"
                    f" → {sql(big, t.query, 'count'):.2f} ms, {t.total:,} matches)"
                    for t in grew
                )
                + ". What is left to grow is what a larger register answers with: a page of 20 "
                "entries (their public documents read and decoded) where the small register has "
                "a few, and a count that reads up to 1,001 keys where it finds fewer."
            )
    add(
        "- **(b) postgres, plan cache.** asyncpg prepares every statement, and after five runs "
        "PostgreSQL may switch to a generic plan that cannot see the arguments. With the old "
        "full-text search that meant parallel scans for a rare name and whole-index walks "
        "(seconds); the name keys plan well either way (found by hand on 1,000,000 entries: "
        "generic 1.0-31 ms, custom 1.3-39 ms for the mix), but a search by filters alone does "
        "not (status `removed`: generic 61 ms, custom 11 ms). The pool's connections therefore "
        "run with `plan_cache_mode = force_custom_plan` (registry/db.py), which costs the "
        "entry lookup some 50 µs of PostgreSQL CPU."
    )
    add(
        "- **Per-request costs** found by profiling the app in-process (by hand, same machine, "
        "not by this script): (1) `access_guard` was a plain function, so Litestar ran it in a "
        "worker thread on every request: made `async`, /health went from 460-570 µs to "
        "240-330 µs a request; (2) the request log line (structlog through the standard "
        "library's JSON formatter) costs 130-240 µs, on /health and the entry alike; (3) on "
        "PostgreSQL asyncpg's pool reset every connection on release with a second round trip "
        "(`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`): the service keeps no "
        "session state, so the reset is now a no-op (a pooled one-row read 391 → 248 µs); (4) "
        "the entry lookup goes straight to the connection (`registry.db.fetch_one`, 391 → "
        "353 µs against Piccolo's `raw`); what is left of it is the round trip (280-375 µs) "
        "and asyncpg's release bookkeeping (~100 µs); (5) the authentication middleware does "
        "no database work on /api/ without a bearer token, and /health and /ready skip it."
    )
    notes_seen = {
        note for sizes in results.values() for r in sizes.values() for note in r.seed["notes"]
    }
    for note in sorted(notes_seen):
        add(f"- **Numbers.** {note}.")
    add("")
    return out


def render(results: dict[str, dict[str, SizeResult]], meta: dict[str, Any]) -> str:
    engines = list(results)
    out: list[str] = []
    add = out.append
    args = argparse.Namespace(**meta["settings"])
    started = datetime.fromisoformat(meta["started"])
    small, large = args.entries_small, args.entries_large
    add("# Register benchmark results")
    add("")
    add(
        f"Latest run: {started:%Y-%m-%d %H:%M} UTC, {meta['elapsed'] / 60:.1f} minutes, "
        f"`{meta['command']}`."
    )
    add("Written by `bench/register_bench.py`; every ratio is taken within this one run.")
    add("")
    add("## Summary")
    add("")
    add(
        "| engine | (a) entry req/s ÷ /health req/s "
        f"(target ≥ {TARGET_RPS_RATIO}) | (b) median search {large:,} ÷ {small:,} "
        f"(target ≤ {TARGET_SEARCH_RATIO:g}) | fresh on the next request |"
    )
    add("| --- | --- | --- | --- |")
    for engine in engines:
        big, little = results[engine]["large"], results[engine]["small"]
        a = big.throughput[0]
        b = big.search_median_ms / little.search_median_ms
        fresh = big.freshness.ok and little.freshness.ok
        add(
            f"| {engine} | {a.ratio:.2f} ({a.median_rps('entry'):,.0f} ÷ "
            f"{a.median_rps('bare'):,.0f}, {large:,} entries) "
            f"{verdict(a.ratio >= TARGET_RPS_RATIO)}"
            f" | {b:.2f} ({big.search_median_ms:.2f} ms ÷ {little.search_median_ms:.2f} ms) "
            f"{verdict(b <= TARGET_SEARCH_RATIO)} | {verdict(fresh)} |"
        )
    add("")
    out.extend(notes(results, meta))
    add("## Machine and versions")
    add("")
    for key, value in meta["environment"].items():
        add(f"- {key}: {value}")
    add(
        "- load: wrk (1 thread) and the server (granian, 1 worker) share the machine's CPUs with "
        "each other and with whatever else runs; load average at the end of each size is "
        "listed below"
    )
    add("")
    add("## (a) Throughput: one entry by number vs the bare JSON endpoint")
    add("")
    add(
        f"wrk, 1 thread, {args.connections} keep-alive connections, {args.rounds} rounds of "
        f"{args.duration:g} s per endpoint, alternating which goes first, after a "
        f"{args.warmup:g} s warm-up each. `entry` = GET /api/v1/register/{{number}} with a "
        "uniformly random seeded number (bench/entry.lua); `bare` = GET /health (msgspec JSON, "
        "no database, skips the authentication middleware) sending the CSRF cookie a browser "
        "would hold; `bare, no cookie` = the same without it, so that every answer mints a CSRF "
        "token and sets the cookie (context only: the ratio uses the faster `bare`). CPU = CPU "
        "seconds per second (1.00 = one core): the server's process tree, wrk, and the whole "
        f"machine ({os.cpu_count()} CPUs, PostgreSQL and anything else running included)."
    )
    add("")
    add(
        "| engine | entries | workers | endpoint | median req/s | rounds (req/s) | p50 ms | "
        "p99 ms | server CPU | wrk CPU | machine CPU | errors |"
    )
    add("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for engine in engines:
        for size in ("small", "large"):
            result = results[engine][size]
            for t in result.throughput:
                for endpoint in ("entry", "bare", "bare, no cookie"):
                    runs = [r for r in t.runs if r.endpoint == endpoint]
                    if not runs:
                        continue
                    add(
                        f"| {engine} | {result.entries:,} | {t.workers} | {endpoint} | "
                        f"{t.median_rps(endpoint):,.0f} | "
                        f"{', '.join(f'{r.rps:,.0f}' for r in runs)} | "
                        f"{median([r.p50_ms for r in runs]):.2f} | "
                        f"{median([r.p99_ms for r in runs]):.2f} | "
                        f"{median([r.server_cpu for r in runs]):.2f} | "
                        f"{median([r.wrk_cpu for r in runs]):.2f} | "
                        f"{median([r.machine_cpu for r in runs]):.2f} | "
                        f"{sum(r.errors for r in runs)} |"
                    )
    add("")
    add("| engine | entries | workers | ratio (medians) | ratio per round |")
    add("| --- | --- | --- | --- | --- |")
    for engine in engines:
        for size in ("small", "large"):
            result = results[engine][size]
            for t in result.throughput:
                add(
                    f"| {engine} | {result.entries:,} | {t.workers} | {t.ratio:.2f} | "
                    f"{', '.join(f'{r:.2f}' for r in t.round_ratios)} |"
                )
    add("")
    add("## (b) Name search: 1,000,000 entries vs 10,000")
    add("")
    add(
        f"GET /api/v1/register?q=... one request at a time on one keep-alive connection, "
        f"{args.search_repeats} times per query (round-robin), after one warm-up each. The "
        "median is over every sample of every query in the mix; `matches` is the search's "
        "`total`, which stops at 1,000 (the answer then says `more`)."
    )
    add("")
    for engine in engines:
        big, little = results[engine]["large"], results[engine]["small"]
        add(f"### {engine}")
        add("")
        add(
            f"| query | kind | matches {little.entries:,} | matches {big.entries:,} | "
            f"median ms {little.entries:,} | median ms {big.entries:,} | ratio |"
        )
        add("| --- | --- | --- | --- | --- | --- | --- |")
        for small_run, big_run in zip(little.searches, big.searches, strict=True):
            add(
                f"| `{small_run.query}` | {small_run.kind} | {small_run.total:,} | "
                f"{big_run.total:,} | {small_run.median_ms:.2f} | {big_run.median_ms:.2f} | "
                f"{big_run.median_ms / small_run.median_ms:.1f} |"
            )
        kinds = list(dict.fromkeys(kind for _, kind in SEARCHES))
        for kind in kinds:
            add(
                f"| *all {kind}* | | | | {little.kind_median_ms(kind):.2f} | "
                f"{big.kind_median_ms(kind):.2f} | "
                f"{big.kind_median_ms(kind) / little.kind_median_ms(kind):.1f} |"
            )
        add(
            f"| **whole mix** | | | | **{little.search_median_ms:.2f}** | "
            f"**{big.search_median_ms:.2f}** | "
            f"**{big.search_median_ms / little.search_median_ms:.2f}** |"
        )
        add("")
        add(
            f"The search's SQL straight on the database (median ms of {args.sql_repeats} runs), "
            "as search() builds it (`search_statements`): `page` is the page of 20, `count` "
            "counts up to 1,001:"
        )
        add("")
        variants = list(dict.fromkeys(t.variant for t in big.sql))
        sizes = (f"{little.entries:,}", f"{big.entries:,}")
        add("| query | " + " | ".join(f"{v}, {n}" for v in variants for n in sizes) + " |")
        add("| --- |" + " --- |" * (2 * len(variants)))
        for query, _ in SEARCHES:
            cells = []
            for variant in variants:
                for result in (little, big):
                    value = next(
                        t.median_ms for t in result.sql if t.query == query and t.variant == variant
                    )
                    cells.append(f"{value:.2f}")
            add(f"| `{query}` | " + " | ".join(cells) + " |")
        add("")
        add(
            f"`search()` in-process (no HTTP), median ms over {args.search_repeats} runs; "
            "`total` is what the answer says (counting stops past 1,000):"
        )
        add("")
        add(
            f"| query | total {little.entries:,} | total {big.entries:,} | ms {little.entries:,} "
            f"| ms {big.entries:,} | ratio |"
        )
        add("| --- | --- | --- | --- | --- | --- |")

        def shown(t: ServiceTiming) -> str:
            return f"more than {t.total:,}" if t.more else f"{t.total:,}"

        for small_call, big_call in zip(little.service, big.service, strict=True):
            add(
                f"| `{small_call.query}` | {shown(small_call)} | {shown(big_call)} | "
                f"{small_call.median_ms:.2f} | {big_call.median_ms:.2f} | "
                f"{big_call.median_ms / small_call.median_ms:.1f} |"
            )
        in_small = median([t.median_ms for t in little.service])
        in_big = median([t.median_ms for t in big.service])
        add(
            f"| **median of the mix** | | | **{in_small:.2f}** | **{in_big:.2f}** | "
            f"**{in_big / in_small:.2f}** |"
        )
        add("")
        for name, plan in big.plans.items():
            add(f"Plan at {big.entries:,} entries, {name}:")
            add("")
            add("```")
            add(plan)
            add("```")
            add("")
    add("## A change is visible on the very next request")
    add("")
    for engine in engines:
        for size in ("small", "large"):
            result = results[engine][size]
            add(
                f"- {engine}, {result.entries:,} entries: {verdict(result.freshness.ok)} "
                f"{result.freshness.detail}"
            )
    add("")
    add("## Seeding")
    add("")
    add("| engine | entries | seconds | database MB | steps | notes | load average after |")
    add("| --- | --- | --- | --- | --- | --- | --- |")
    for engine in engines:
        for size in ("small", "large"):
            result = results[engine][size]
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.seed["steps"].items())
            add(
                f"| {engine} | {result.entries:,} | {result.seed['seconds']:.1f} | "
                f"{result.database_mb:,.0f} | {steps} | {'; '.join(result.seed['notes'])} | "
                f"{result.loadavg} |"
            )
    add("")
    return "\n".join(out)


def print_summary(results: dict[str, dict[str, SizeResult]]) -> None:
    print()
    print(
        f"{'engine':10} {'entries':>10} {'entry rps':>10} {'bare rps':>10} {'ratio':>6} "
        f"{'search ms':>10} {'fresh':>6}"
    )
    for engine, sizes in results.items():
        for result in sizes.values():
            t = result.throughput[0]
            print(
                f"{engine:10} {result.entries:>10,} {t.median_rps('entry'):>10,.0f} "
                f"{t.median_rps('bare'):>10,.0f} {t.ratio:>6.2f} {result.search_median_ms:>10.2f} "
                f"{result.freshness.ok!s:>6}"
            )
    for engine, sizes in results.items():
        a = sizes["large"].throughput[0].ratio
        b = sizes["large"].search_median_ms / sizes["small"].search_median_ms
        print(
            f"{engine}: (a) {a:.2f} (target >= {TARGET_RPS_RATIO}) "
            f"{'pass' if a >= TARGET_RPS_RATIO else 'FAIL'}; (b) {b:.2f} "
            f"(target <= {TARGET_SEARCH_RATIO:g}) {'pass' if b <= TARGET_SEARCH_RATIO else 'FAIL'}"
        )


README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


def readme_block(results: dict[str, dict[str, SizeResult]], started: datetime) -> str:
    lines = [
        README_START,
        f"Latest run ({started:%Y-%m-%d}; details, machine and notes in `bench/RESULTS.md`):",
        "",
        "| engine | (a) entry ÷ /health req/s (≥ 0.5) | (b) search 1M ÷ 10k (≤ 2) | "
        "fresh on the next request |",
        "| --- | --- | --- | --- |",
    ]
    for engine, sizes in results.items():
        big, little = sizes["large"], sizes["small"]
        a = big.throughput[0]
        b = big.search_median_ms / little.search_median_ms
        lines.append(
            f"| {engine} | {a.ratio:.2f} ({a.median_rps('entry'):,.0f} ÷ "
            f"{a.median_rps('bare'):,.0f}) | {b:.2f} ({big.search_median_ms:.1f} ms ÷ "
            f"{little.search_median_ms:.1f} ms) | "
            f"{'yes' if big.freshness.ok and little.freshness.ok else 'NO'} |"
        )
    lines.append("")
    lines.append(
        "Where a target is missed, the notes in `bench/RESULTS.md` say where the time goes."
    )
    lines.append(README_END)
    return "\n".join(lines)


def update_readme(block: str) -> bool:
    text = README.read_text()  # read right before writing: others edit the README too
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    README.write_text(head + block + tail)
    return True


# --- the suite's row P2 (bench/suite.py) ----------------------------------------------------------

# The suite's quick run: tiny registers, one run of each query, nothing timed.
QUICK_ENTRIES = (300, 2_000)
# Where P2's time goes, this run's figures by engine, filled in by measure(): the suite reads
# NOTES after every module has measured.
_P2_FIGURES: dict[str, str] = {}
NOTES = {"P2": SEARCH_DESIGN}


@dataclass(frozen=True)
class QueryRatio:
    """One query of the mix at both sizes: HTTP medians and their ratio."""

    query: str
    small_ms: float
    large_ms: float

    @property
    def ratio(self) -> float:
        return self.large_ms / self.small_ms


def query_ratios(small: SizeResult, large: SizeResult) -> list[QueryRatio]:
    """Every query's HTTP median at the large size ÷ at the small one, in the mix's order."""
    return [
        QueryRatio(a.query, a.median_ms, b.median_ms)
        for a, b in zip(small.searches, large.searches, strict=True)
    ]


def where_p2_goes(engine: str, small: SizeResult, large: SizeResult, worst: QueryRatio) -> str:
    """This run's split of the worst query's time: HTTP, search() in-process, its two SQL
    statements, as part (b) measured them."""

    def sql(result: SizeResult, variant: str) -> float:
        return next(
            t.median_ms for t in result.sql if t.query == worst.query and t.variant == variant
        )

    def service(result: SizeResult) -> ServiceTiming:
        return next(t for t in result.service if t.query == worst.query)

    def total(t: ServiceTiming) -> str:
        return f"more than {t.total:,}" if t.more else f"{t.total:,}"

    def outside(result: SizeResult) -> float:
        http = next(t.median_ms for t in result.searches if t.query == worst.query)
        return http - service(result).median_ms

    in_small = median([t.median_ms for t in small.service])
    in_large = median([t.median_ms for t in large.service])
    sizes = f"{small.entries:,} → {large.entries:,} entries"
    return (
        f"On {engine} ({sizes}, load average {large.loadavg}): the mix's median search "
        f"{small.search_median_ms:.2f} → {large.search_median_ms:.2f} ms over HTTP, "
        f"{in_small:.2f} → {in_large:.2f} ms in-process. The worst query, `{worst.query}` "
        f"({total(service(small))} → {total(service(large))} matches): HTTP "
        f"{worst.small_ms:.2f} → {worst.large_ms:.2f} ms, search() in-process "
        f"{service(small).median_ms:.2f} → {service(large).median_ms:.2f} ms, its SQL straight "
        f"on the database page {sql(small, 'page'):.2f} → {sql(large, 'page'):.2f} ms and count "
        f"{sql(small, 'count'):.2f} → {sql(large, 'count'):.2f} ms; outside search() (the "
        f"request's way through the server and back) {outside(small):.2f} → "
        f"{outside(large):.2f} ms."
    )


def measure(engine: str, *, quick: bool) -> list[Row]:
    """The suite's P2 for ``engine``: the worst query of the mix, its HTTP median at 1,000,000
    entries ÷ at 10,000, from part (b) alone (no wrk load, no RESULTS.md or README written)."""
    args = parse_args(["--engine", engine, *(["--quick"] if quick else [])])
    if quick:
        args.entries_small, args.entries_large = QUICK_ENTRIES
        args.search_repeats = args.sql_repeats = 1
    args.workdir = Path(tempfile.mkdtemp(prefix="register-p2-")).resolve()
    try:
        small = run_size(engine, "small", args.entries_small, args, throughput=False)
        large = run_size(engine, "large", args.entries_large, args, throughput=False)
    finally:
        shutil.rmtree(args.workdir, ignore_errors=True)
    for result in (small, large):
        if not result.freshness.ok:  # a stale answer is a bug, whatever the timings say
            raise RuntimeError(f"a change was not seen on the next request: {result.freshness}")
    what = f"name search at {large.entries:,} entries"
    how = (
        f"median time at {large.entries:,} ÷ at {small.entries:,}, worst query of a mix of "
        f"{len(SEARCHES)} (common and rare, one and two words, region/status filters)"
    )
    target = f"≤ {TARGET_SEARCH_RATIO:g}"
    if quick:
        return [Row("P2", what, how, float("nan"), target, None, QUICK)]
    ratios = query_ratios(small, large)
    for r in ratios:  # the row keeps only the worst and the spread; the run's log has them all
        log(f"P2 {engine} {r.query!r}: {r.small_ms:.2f} → {r.large_ms:.2f} ms, {r.ratio:.2f}")
    worst = max(ratios, key=lambda r: r.ratio)
    spread = sorted(r.ratio for r in ratios)
    _P2_FIGURES[engine] = where_p2_goes(engine, small, large, worst)
    NOTES["P2"] = " ".join([SEARCH_DESIGN, *_P2_FIGURES.values()])
    return [
        Row(
            "P2",
            what,
            how,
            worst.ratio,
            target,
            worst.ratio <= TARGET_SEARCH_RATIO,
            f"worst `{worst.query}` {worst.small_ms:.2f} → {worst.large_ms:.2f} ms; the "
            f"{len(ratios)} queries {spread[0]:.2f}-{spread[-1]:.2f} (median "
            f"{median(spread):.2f}), {args.search_repeats} runs each over HTTP, one at a time",
        )
    ]


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--entries-small", type=int, default=None)
    parser.add_argument("--entries-large", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="2k and 50k entries, 2 s loads")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--search-repeats", type=int, default=None)
    parser.add_argument("--sql-repeats", type=int, default=None)
    parser.add_argument(
        "--pg-workers", type=int, default=1, help="also load PostgreSQL with this many workers"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "REGISTRY_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="SQLite: measure the files a --keep run left in --workdir instead of seeding again",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--update-readme", action="store_true", help="rewrite the README's marked figures"
    )
    parser.add_argument(
        "--render-from",
        type=Path,
        default=None,
        help="write RESULTS.md again from an earlier run's RESULTS.json, without measuring",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "entries_small": 2_000 if quick else 10_000,
        "entries_large": 50_000 if quick else 1_000_000,
        "rounds": 2 if quick else 3,
        "duration": 2 if quick else 10,
        "warmup": 1 if quick else 3,
        "search_repeats": 5 if quick else 15,
        "sql_repeats": 3 if quick else 7,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def load_results(path: Path) -> tuple[dict[str, dict[str, SizeResult]], dict[str, Any]]:
    """The figures of an earlier run, from its RESULTS.json."""
    saved = json.loads(path.read_text())
    meta, figures = saved["meta"], saved["results"]

    def size(data: dict[str, Any]) -> SizeResult:
        return SizeResult(
            entries=data["entries"],
            seed=data["seed"],
            database_mb=data["database_mb"],
            throughput=[
                Throughput(t["workers"], t["connections"], [WrkRun(**r) for r in t["runs"]])
                for t in data["throughput"]
            ],
            searches=[SearchTiming(**t) for t in data["searches"]],
            sql=[SqlTiming(**t) for t in data["sql"]],
            plans=data["plans"],
            service=[ServiceTiming(**t) for t in data["service"]],
            freshness=Freshness(**data["freshness"]),
            loadavg=data["loadavg"],
        )

    return {e: {k: size(v) for k, v in sizes.items()} for e, sizes in figures.items()}, meta


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_from:
        stored, meta = load_results(args.render_from)
        write_results(render(stored, meta), args.results)
        print(f"wrote {args.results} from {args.render_from}")
        if args.update_readme:
            block = readme_block(stored, datetime.fromisoformat(meta["started"]))
            print("README updated" if update_readme(block) else "README has no bench markers")
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    started = datetime.now(UTC)
    clock = time.perf_counter()
    temporary = args.workdir is None
    args.workdir = Path(args.workdir or tempfile.mkdtemp(prefix="register-bench-")).resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    log(f"working in {args.workdir}; load average {loadavg()}")
    results: dict[str, dict[str, SizeResult]] = {}
    try:
        for engine in engines:
            results[engine] = {
                "small": run_size(engine, "small", args.entries_small, args),
                "large": run_size(engine, "large", args.entries_large, args),
            }
    finally:
        if temporary and not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    elapsed = time.perf_counter() - clock
    meta = run_meta(args, engines, started, elapsed)
    raw = args.results.with_suffix(".json")
    figures = {
        engine: {k: asdict(v) for k, v in sizes.items()} for engine, sizes in results.items()
    }
    raw.write_text(json.dumps({"meta": meta, "results": figures}, indent=1, default=str))
    write_results(render(results, meta), args.results)
    print_summary(results)
    print(f"\nwrote {args.results} and {raw} in {elapsed / 60:.1f} minutes")
    if args.update_readme:
        block = readme_block(results, started)
        print("README updated" if update_readme(block) else "README has no bench markers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
