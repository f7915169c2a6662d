"""Certificates at scale, as issue 13 asks, measured in one run and written to its own section of
bench/RESULTS.md (between markers; the rest of the file is left alone).

For each engine it:

1. makes a fresh database, migrates it and bulk-seeds it with bench/seed.py (10,000 entries by
   default; the seed makes no certificates, as on a register older than them);
2. serves it with ``registry serve`` (granian, one worker, production settings) as
   bench/register_bench.py does, and runs ``registry certificates issue --all-current`` against
   it: the rate of signing 10,000 certificates (batches committed one by one), then the same
   command again (which must issue nothing), then again with ``--pdf-dir`` (every live
   certificate rendered as a PDF on a process per core; on one engine only, as rendering does
   not touch the database), with the CPU each run used;
3. loads the server with wrk, interleaved in rounds: GET /api/v1/register/{number} (the entry
   lookup, bench/entry.lua), POST /api/v1/verify with a random certificate's serial, and with a
   random certificate's whole credential (bench/verify.lua); cost ratio = entry req/s ÷ verify
   req/s (target ≤ 2: a verification costs at most twice a lookup).

Usage::

    .venv/bin/python bench/certificate_verify.py --engine both            # ~10 minutes
    .venv/bin/python bench/certificate_verify.py --engine sqlite --quick  # ~1 minute, no RESULTS
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.register_bench import (  # noqa: E402
    BENCH_DIR,
    REGISTRY,
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
    registry_env,
    run_wrk,
    seed,
    serving,
)
from bench.results_file import write_section  # noqa: E402

RESULTS = BENCH_DIR / "RESULTS.md"
START = "<!-- certificate_verify.py: start -->"
END = "<!-- certificate_verify.py: end -->"
TARGET_COST_RATIO = 2.0
ENDPOINTS = ("entry", "verify serial", "verify credential")
BODY_SAMPLE = 2000  # certificates whose serial and credential the wrk script picks from


@dataclass
class IssueRun:
    what: str
    wall_s: float
    cpu_s: float  # the command and its worker processes, user + system
    output: str

    @property
    def cores(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s else float("nan")

    def number(self, pattern: str) -> int:
        found = re.search(pattern, self.output)
        return int(found.group(1)) if found else -1


@dataclass
class EngineResult:
    engine: str
    entries: int
    issue: IssueRun
    again: IssueRun
    pdfs: IssueRun | None
    runs: list[WrkRun]

    def median_rps(self, endpoint: str) -> float:
        return median([r.rps for r in self.runs if r.endpoint == endpoint])

    def cost_ratio(self, endpoint: str) -> float:
        return self.median_rps("entry") / self.median_rps(endpoint)

    def round_ratios(self, endpoint: str) -> list[float]:
        entries = [r.rps for r in self.runs if r.endpoint == "entry"]
        others = [r.rps for r in self.runs if r.endpoint == endpoint]
        return [e / o for e, o in zip(entries, others, strict=False)]


def issue_command(database: Database, server: Server, workdir: Path, *extra: str) -> IssueRun:
    env = registry_env(database, workdir, server.base)  # the same did:web as the server's
    command = [str(REGISTRY), "certificates", "issue", "--all-current", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    what = " ".join(command[1:]).replace(str(workdir), "DIR")
    return IssueRun(what, wall, cpu, done.stdout.replace(str(workdir), "DIR"))


def certificates(database: Database, limit: int) -> list[tuple[str, str]]:
    """(serial, credential) of up to ``limit`` live certificates, in random order."""
    query = (
        "SELECT serial, credential FROM certificate WHERE revoked_at IS NULL"
        f" ORDER BY random() LIMIT {int(limit)}"
    )
    if database.engine == "sqlite":
        with sqlite3.connect(database.sqlite_path) as connection:
            return [(r[0], r[1]) for r in connection.execute(query)]

    async def fetch() -> list[tuple[str, str]]:
        import asyncpg

        connection = await asyncpg.connect(database.url)
        try:
            return [(r[0], r[1]) for r in await connection.fetch(query)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def write_bodies(workdir: Path, sample: list[tuple[str, str]]) -> dict[str, Path]:
    serials, whole = workdir / "bodies-serial.txt", workdir / "bodies-credential.txt"
    serials.write_text("".join(json.dumps({"serial": s}) + "\n" for s, _ in sample))
    whole.write_text("".join('{"credential":' + c + "}\n" for _, c in sample))
    return {"verify serial": serials, "verify credential": whole}


def check_answers(server: Server, bodies: dict[str, Path]) -> None:
    """Each kind of verification answers 200 and valid before it is timed."""
    import http.client

    for path in bodies.values():
        body = path.read_text().splitlines()[0]
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("POST", "/api/v1/verify", body, {"content-type": "application/json"})
        answer = connection.getresponse()
        said = json.loads(answer.read())
        connection.close()
        if answer.status != 200 or not said.get("valid"):
            raise RuntimeError(f"verification is not valid before timing: {said}")


def run_engine(engine: str, args: argparse.Namespace) -> EngineResult:
    workdir = Path(tempfile.mkdtemp(prefix=f"cert-bench-{engine}-"))
    database = fresh_database(engine, "certs", workdir, args.postgres_url)
    try:
        asyncio.run(_migrate(database.url, workdir))
        log(f"{engine}: seeding {args.entries:,} entries")
        report = seed(database, args.entries, quiet=True)
        with serving(database, workdir, 1) as server:
            log(f"{engine}: issuing certificates for every current entry")
            issue = issue_command(database, server, workdir, "--batch-size", str(args.batch))
            log(f"  {issue.output.strip()} in {issue.wall_s:.1f} s ({issue.cores:.2f} cores)")
            again = issue_command(database, server, workdir, "--batch-size", str(args.batch))
            log(f"  again: {again.output.strip()} in {again.wall_s:.1f} s")
            pdfs = None
            if not args.no_pdfs and engine == args.pdf_engine:
                pdf_dir = workdir / "pdfs"
                pdfs = issue_command(
                    database,
                    server,
                    workdir,
                    "--batch-size",
                    str(args.batch),
                    "--pdf-dir",
                    str(pdf_dir),
                )
                log(
                    f"  PDFs: {pdfs.output.strip()} in {pdfs.wall_s:.1f} s ({pdfs.cores:.2f} cores)"
                )
                shutil.rmtree(pdf_dir, ignore_errors=True)
            bodies = write_bodies(workdir, certificates(database, BODY_SAMPLE))
            check_answers(server, bodies)
            env = {
                "BENCH_FIRST_SERIAL": str(report.first_serial),
                "BENCH_COUNT": str(report.count),
            }
            targets: dict[str, list[str]] = {
                "entry": [],
                **{
                    name: [f"{server.base}/api/v1/verify", "-s", str(BENCH_DIR / "verify.lua")]
                    for name in bodies
                },
            }

            def wrk(endpoint: str, seconds: float) -> WrkRun:
                extra = {"BENCH_BODIES": str(bodies[endpoint])} if endpoint in bodies else {}
                return run_wrk(
                    server, endpoint, seconds, args.connections, env | extra, targets[endpoint]
                )

            for endpoint in ENDPOINTS:
                wrk(endpoint, args.warmup)
            runs: list[WrkRun] = []
            for round_number in range(args.rounds):
                order = ENDPOINTS if round_number % 2 == 0 else ENDPOINTS[::-1]
                for endpoint in order:
                    run = wrk(endpoint, args.duration)
                    log(
                        f"  round {round_number + 1} {endpoint:17}: {run.rps:6.0f} req/s, p50 "
                        f"{run.p50_ms:.2f} ms, server CPU {run.server_cpu:.2f}, errors {run.errors}"
                    )
                    runs.append(run)
        runs.sort(key=lambda r: ENDPOINTS.index(r.endpoint))
        return EngineResult(engine, args.entries, issue, again, pdfs, runs)
    finally:
        database.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


# --- RESULTS.md ------------------------------------------------------------------------------


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds and count > 0 else "none"


def section(results: list[EngineResult], meta: dict[str, Any], args: argparse.Namespace) -> str:
    out = [
        START,
        "## Certificates: verifying through the API vs the entry lookup, and batch issuing",
        "",
        f"Latest run: {meta['started']} UTC, {meta['elapsed']}, `{meta['command']}`. Written by "
        "`bench/certificate_verify.py`; every ratio is taken within this one run.",
        "",
        "| engine | verify by serial: cost ÷ entry lookup (target ≤ 2) | verify a whole credential:"
        " cost ÷ entry lookup (target ≤ 2) | certificates signed | PDFs rendered |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        cells = []
        for endpoint in ("verify serial", "verify credential"):
            ratio = r.cost_ratio(endpoint)
            verdict = "**pass**" if ratio <= TARGET_COST_RATIO else "**fail**"
            cells.append(
                f"{ratio:.2f} ({r.median_rps('entry'):,.0f} ÷ {r.median_rps(endpoint):,.0f}"
                f" req/s) {verdict}"
            )
        issued = r.issue.number(r"issued (\d+) certificates")
        written = r.pdfs.number(r"Wrote (\d+) PDFs") if r.pdfs else -1
        pdf_cell = (
            f"{written:,} in {r.pdfs.wall_s:.0f} s, {_rate(written, r.pdfs.wall_s)}, "
            f"{r.pdfs.cores:.2f} cores"
            if r.pdfs
            else "not run"
        )
        cells.append(
            f"{issued:,} in {r.issue.wall_s:.1f} s, {_rate(issued, r.issue.wall_s)},"
            f" {r.issue.cores:.2f} cores"
        )
        cells.append(pdf_cell)
        out.append(f"| {r.engine} | " + " | ".join(cells) + " |")
    out += [
        "",
        f"wrk, 1 thread, {args.connections} keep-alive connections, {args.rounds} rounds of "
        f"{args.duration:g} s per endpoint, alternating the order, after a {args.warmup:g} s "
        "warm-up each, against one granian worker. `entry` = GET /api/v1/register/{number} "
        '(bench/entry.lua); `verify serial` = POST /api/v1/verify `{"serial": …}` and '
        '`verify credential` = POST /api/v1/verify `{"credential": {…}}`, each picking one of '
        f"{BODY_SAMPLE:,} live certificates at random (bench/verify.lua). Cost ratio = entry "
        "req/s ÷ verify req/s.",
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
    out += [
        "",
        "Batch issuing: `registry certificates issue --all-current` on a freshly seeded register "
        f"of {args.entries:,} entries with no certificates (batches of {args.batch}, each "
        "committed), then the same command again, then with `--pdf-dir` (every live certificate "
        "rendered by a pool of one process per core while the next batch is read). Cores = CPU "
        "seconds of the command and its workers ÷ wall seconds.",
        "",
        "| engine | run | wall s | cores | said |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        for run in (r.issue, r.again, *([r.pdfs] if r.pdfs else [])):
            said = " ".join(run.output.split())
            out.append(
                f"| {r.engine} | `{run.what}` | {run.wall_s:.1f} | {run.cores:.2f} | {said} |"
            )
    for r in results:
        if r.pdfs is not None and r.pdfs.cores < 1.5:
            out += [
                "",
                f"Both cores for the PDFs: not shown by this run ({r.engine}): the pool of "
                f"{meta['cpus']} processes got {r.pdfs.cores:.2f} cores while the machine was "
                f"{meta['machine busy']} busy with this and other work. The pool is one process "
                "per core (`os.cpu_count()`); bench/certificate_pdf.py measures the renderer on "
                "1 and 2 processes alone.",
            ]
    out += [
        "",
        f"Of the {args.entries:,} seeded entries, those on the register (registered, with "
        "conditions or suspended) get a certificate; the seed's mix also holds lapsed and "
        "removed entries, which get none.",
        "",
        f"Machine: {meta['cpus']} CPUs ({meta['cpu']}), Python {meta['python']}; the machine was "
        f"{meta['machine busy']} busy over the run (every process, this one's included), load "
        f"average at the end {meta['load average']}. Other work shares these CPUs: absolute "
        "rates are low and noisy; the ratios, from interleaved rounds, are what to compare.",
        END,
    ]
    return "\n".join(out) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200, help="entries per issuing batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-pdfs", action="store_true", help="skip the --pdf-dir run")
    parser.add_argument(
        "--pdf-engine",
        default="sqlite",
        help="the engine whose run renders the PDFs (rendering does not touch the database)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "REGISTRY_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--quick", action="store_true", help="small and short; RESULTS untouched")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.entries, args.rounds, args.duration, args.warmup = 1000, 1, 3.0, 1.0
    return args


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
        "command": " ".join(
            ["bench/certificate_verify.py", *(sys.argv[1:] if argv is None else argv)]
        ),
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
