"""The steps of the benchmark run: settings, database, probe, one wrk measurement, alternating
rounds, py-spy profiles. `benchmarks/run.py` puts them in order."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from benchmarks import profiles, seed
from benchmarks.load import RssSampler, Scenario, WrkResult, median_of, run_wrk
from benchmarks.report import DEEP_PAGE
from benchmarks.servers import ROOT, Server, cli, create_key

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PROFILES = ROOT / "benchmarks" / "profiles"
ROTATING_IDS = 20_000


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True, slots=True)
class Settings:
    """Environment: BENCH_DB (notes_bench), BENCH_NOTES (1000000; 100000 with --quick),
    BENCH_DURATION (15; 3), BENCH_WARMUP (3; 1), BENCH_PGBENCH_CLIENTS (16), KEEP_DB=1,
    REUSE_DB=1, PROFILE=1, PGBOUNCER_DIR (see benchmarks/run.py)."""

    database: str = os.environ.get("BENCH_DB", "notes_bench")
    notes: int = _env_int("BENCH_NOTES", 1_000_000)
    duration: float = float(os.environ.get("BENCH_DURATION", "15"))
    warmup: float = float(os.environ.get("BENCH_WARMUP", "3"))
    keep_db: bool = os.environ.get("KEEP_DB") == "1"
    reuse_db: bool = os.environ.get("REUSE_DB") == "1"
    profile: bool = os.environ.get("PROFILE") == "1"
    pgbench_clients: int = _env_int("BENCH_PGBENCH_CLIENTS", 16)
    quick: bool = False

    @classmethod
    def from_args(cls, argv: list[str]) -> Settings:
        parser = argparse.ArgumentParser(prog="benchmarks/run.sh", description=cls.__doc__)
        parser.add_argument(
            "--quick", action="store_true", help="100,000 notes and short runs: under 3 minutes"
        )
        if not parser.parse_args(argv).quick:
            return cls()
        return cls(
            notes=_env_int("BENCH_NOTES", 100_000),
            duration=float(os.environ.get("BENCH_DURATION", "3")),
            warmup=float(os.environ.get("BENCH_WARMUP", "1")),
            quick=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.database}"


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def prepare_database(
    settings: Settings, env: dict[str, str]
) -> tuple[str, int, seed.SeedReport | None]:
    reuse = settings.reuse_db and asyncio.run(seed.database_exists(ADMIN_URL, settings.database))
    if not reuse:
        log(f"creating database {settings.database}")
        asyncio.run(seed.recreate_database(ADMIN_URL, settings.database))
        cli(["migrate"], env)
    key = create_key(env, "bench")
    owner = asyncio.run(seed.owner_id(settings.url, "bench"))
    if reuse:
        log(f"reusing the seeded database {settings.database}")
        return key, owner, None
    log(f"seeding {settings.notes:,} notes (generate_series)")
    report = asyncio.run(seed.seed(settings.url, owner, settings.notes))
    log(f"seeded {report.notes:,} notes ({report.bench_notes:,} bench) in {report.seconds:.0f}s")
    return key, owner, report


def probe(service: Server, baseline: Server, key: str, note_id: str) -> dict[str, Any]:
    """Check that every measured URL answers 2xx with real rows, and learn what POST accepts."""
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=service.url, headers=auth, timeout=30) as client:
        client.get(f"/v1/notes/{note_id}").raise_for_status()
        httpx.get(f"{baseline.url}/items/{note_id}", timeout=30).raise_for_status()
        body = {"title": "probe", "body": "tags probe", "tags": ["a", "b", "c"]}
        answer = client.post("/v1/notes", json=body)
        if answer.status_code == 422:
            tags = False
        elif answer.status_code == 201:
            tags = True
        else:
            raise RuntimeError(f"POST /v1/notes probe: {answer.status_code} {answer.text}")
        for word in (seed.RARE_WORD, seed.COMMON_WORD):
            found = client.get("/v1/search", params={"q": word}).raise_for_status().json()
            if len(found["items"]) != 20:
                raise RuntimeError(f"search for {word!r} should fill a page of 20")
        page = client.get("/v1/notes", params={"limit": 20}).raise_for_status().json()
        for _ in range(DEEP_PAGE - 1):
            cursor = page["next_cursor"]
            page = client.get("/v1/notes", params={"limit": 20, "cursor": cursor})
            page = page.raise_for_status().json()
        if len(page["items"]) != 20:
            raise RuntimeError(f"page {DEEP_PAGE} is not full")
    return {"tags": tags, "deep_cursor": cursor}


def measure(
    scenario: Scenario,
    settings: Settings,
    workdir: Path,
    sampler: RssSampler | None,
    connections: int = 32,
    threads: int = 2,
) -> WrkResult:
    asyncio.run(seed.wait_for_idle(settings.url))
    log(f"wrk -t{threads} -c{connections} -d{settings.duration:g}s  {scenario.name}")
    if settings.warmup > 0:
        run_wrk(
            scenario, workdir, duration=settings.warmup, threads=threads, connections=connections
        )
    if sampler is not None:
        sampler.window()
    result = run_wrk(
        scenario, workdir, duration=settings.duration, threads=threads, connections=connections
    )
    if sampler is not None:
        rss, cpu = sampler.window()
        result = replace(result, peak_rss_mb=rss, worker_cpu=cpu)
    log(
        f"  {result.rps:,.0f} req/s  p50 {result.p50_ms:.1f} ms  p99 {result.p99_ms:.1f} ms"
        f"  errors {result.errors}"
    )
    if result.errors:
        raise RuntimeError(f"{scenario.name}: {result.errors} failed requests")
    return result


def git_commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)  # noqa: S603, S607
        return done.stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (
        " (dirty)" if git("status", "--porcelain", "--", ".", ":!benchmarks/RESULTS.md") else ""
    )


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True)  # noqa: S607
    return (done.stdout + done.stderr).splitlines()[0].split(" [")[0]


def interleaved(
    a: Scenario,
    b: Scenario,
    settings: Settings,
    workdir: Path,
    *,
    rounds: int,
    seconds: float,
    connections: int,
) -> tuple[WrkResult, WrkResult]:
    """Alternate short runs of a and b, so that load drifting on the shared machine hits both
    alike; the medians of the rounds."""
    threads = min(2, connections)
    asyncio.run(seed.wait_for_idle(settings.url))
    log(f"wrk -t{threads} -c{connections}: {a.name} / {b.name}, {rounds} x {seconds:g}s each")
    runs: dict[str, list[WrkResult]] = {a.name: [], b.name: []}
    for _ in range(rounds):
        for scenario in (a, b):
            result = run_wrk(
                scenario, workdir, duration=seconds, threads=threads, connections=connections
            )
            if result.errors:
                raise RuntimeError(f"{scenario.name}: {result.errors} failed requests")
            runs[scenario.name].append(result)
    first, second = median_of(runs[a.name]), median_of(runs[b.name])
    log(f"  p50 {first.p50_ms:.2f} ms / {second.p50_ms:.2f} ms")
    return first, second


def profile(service: Server, scenarios: list[Scenario], settings: Settings, workdir: Path) -> None:
    PROFILES.mkdir(exist_ok=True)
    for scenario in scenarios:
        output = PROFILES / f"{scenario.name}.txt"
        log(f"py-spy record on the service worker: {scenario.name} -> {output.name}")
        sampler = profiles.record(service.pid, output, seconds=settings.duration - 2)
        run_wrk(scenario, workdir, duration=settings.duration)
        if sampler.wait() != 0:
            log(f"py-spy failed on {scenario.name}; is ptrace allowed here?")
            continue
        print(f"\n{scenario.name}: where the worker's CPU goes (inclusive %, self %)")
        for frame, inclusive, own in profiles.watched(output):
            if inclusive >= 0.5:
                print(f"  {inclusive:5.1f} {own:5.1f}  {frame}")
        print(f"{scenario.name}: by library (innermost matching frame)")
        for library, share in profiles.by_library(output):
            print(f"  {share:5.1f}  {library}")
        print(f"{scenario.name}: most self time")
        for frame, own in profiles.top_self(output):
            print(f"  {own:5.1f}  {frame}")
