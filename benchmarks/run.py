"""The load benchmark of SPEC §7, end to end: database, seed, both servers, wrk, report.

Run it from the project root through `benchmarks/run.sh`. Settings (environment):
BENCH_DB (notes_bench), BENCH_NOTES (1000000), BENCH_DURATION (15), BENCH_WARMUP (3),
KEEP_DB=1 keeps the database afterwards, REUSE_DB=1 reuses a kept one instead of re-seeding,
PROFILE=1 also samples the service worker with py-spy (after the measured runs).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from benchmarks import profiles, seed
from benchmarks.load import RssSampler, Scenario, WrkResult, median_of, run_wrk
from benchmarks.report import DEEP_PAGE, RESULTS, Row, render, write_results
from benchmarks.servers import ROOT, Server, cli, create_key, free_port, service_env

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PROFILES = ROOT / "benchmarks" / "profiles"
ROTATING_IDS = 20_000


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True, slots=True)
class Settings:
    database: str = os.environ.get("BENCH_DB", "notes_bench")
    notes: int = _env_int("BENCH_NOTES", 1_000_000)
    duration: float = float(os.environ.get("BENCH_DURATION", "15"))
    warmup: float = float(os.environ.get("BENCH_WARMUP", "3"))
    keep_db: bool = os.environ.get("KEEP_DB") == "1"
    reuse_db: bool = os.environ.get("REUSE_DB") == "1"
    profile: bool = os.environ.get("PROFILE") == "1"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.database}"


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def prepare_database(settings: Settings) -> tuple[str, int, seed.SeedReport | None]:
    env = service_env(settings.url)
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


def _git_commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)  # noqa: S603, S607
        return done.stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (
        " (dirty)" if git("status", "--porcelain", "--", ".", ":!benchmarks/RESULTS.md") else ""
    )


def _wrk_version() -> str:
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


def custom_plans(
    service: Server, scenario: Scenario, settings: Settings, workdir: Path
) -> WrkResult:
    """What-if, with no code change: the search again once PostgreSQL is told to plan every
    execution for its actual binds instead of switching to a generic plan after five."""
    asyncio.run(seed.set_plan_cache_mode(ADMIN_URL, settings.database, "force_custom_plan"))
    try:
        service.stop()
        service.start("/healthz")
        return measure(replace(scenario, name="search_rare_custom_plans"), settings, workdir, None)
    finally:
        asyncio.run(seed.set_plan_cache_mode(ADMIN_URL, settings.database, None))


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


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    settings = Settings()
    load_before = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    servers: list[Server] = []
    sampler: RssSampler | None = None
    base_sampler: RssSampler | None = None
    try:
        key, owner, report = prepare_database(settings)
        ids = [str(i) for i in asyncio.run(seed.sample_note_ids(settings.url, owner, ROTATING_IDS))]
        workdir = Path(tempfile.mkdtemp(prefix="notes-bench-"))
        service = Server(
            "service", "notes_service.app:create_app", free_port(),
            service_env(settings.url), workdir / "service.log", factory=True,
        )  # fmt: skip
        baseline = Server(
            "baseline", "benchmarks.baseline_app:app", free_port(),
            dict(os.environ, BASELINE_DATABASE_URL=settings.url), workdir / "baseline.log",
        )  # fmt: skip
        servers += [service, baseline]
        service.start("/healthz")
        baseline.start("/openapi.json")
        log(f"service pid {service.pid} on :{service.port}, baseline on :{baseline.port}")
        facts = probe(service, baseline, key, ids[0])
        sampler = RssSampler(service.pid)
        sampler.start()
        base_sampler = RssSampler(baseline.pid)
        base_sampler.start()

        auth = {"Authorization": f"Bearer {key}"}
        svc = service.url
        post_body: dict[str, Any] = {"title": "Bench note", "body": "written by wrk " * 8}
        if facts["tags"]:
            post_body["tags"] = ["a", "b", "c"]
        base_scenario = Scenario("baseline_item", f"{baseline.url}/items/", rotate_ids=ids)
        first_page = Scenario("list_first", f"{svc}/v1/notes?limit=20", auth)
        deep_page = Scenario(
            "list_page100", f"{svc}/v1/notes?limit=20&cursor={facts['deep_cursor']}", auth
        )
        note_get = Scenario("note_get", f"{svc}/v1/notes/", auth, rotate_ids=ids)
        search_rare = Scenario("search_rare", f"{svc}/v1/search?q={seed.RARE_WORD}", auth)
        search_common = Scenario("search_common", f"{svc}/v1/search?q={seed.COMMON_WORD}", auth)
        post = Scenario(
            "note_post", f"{svc}/v1/notes", auth | {"Content-Type": "application/json"},
            method="POST", body=json.dumps(post_body),
        )  # fmt: skip

        def run(scenario: Scenario) -> WrkResult:
            return measure(scenario, settings, workdir, sampler)

        baseline_first = measure(base_scenario, settings, workdir, base_sampler)
        got, first, deep = run(note_get), run(first_page), run(deep_page)
        rare, posted = run(search_rare), run(post)
        baseline_last = measure(base_scenario, settings, workdir, base_sampler)
        posted_label = "with 3 tags" if facts["tags"] else "(no tags)"
        rows = [
            Row("baseline `GET /items/{id}` (first run)", baseline_first),
            Row("baseline `GET /items/{id}` (last run)", baseline_last),
            Row("`GET /v1/notes/{id}`", got, 1.0),
            Row("`GET /v1/notes?limit=20` (page 1)", first, 0.8),
            Row(f"`GET /v1/notes?limit=20&cursor=…` (page {DEEP_PAGE})", deep),
            Row(f"`GET /v1/search?q={seed.RARE_WORD}` (0.1% of notes match)", rare, 0.8),
            Row(f"`POST /v1/notes` {posted_label}", posted, 0.5),
        ]
        pages = {
            "wrk -t2 -c32, 3 alternating 5 s rounds each (medians)": interleaved(
                first_page, deep_page, settings, workdir, rounds=3, seconds=5, connections=32
            ),
            "wrk -t1 -c1, 5 alternating 2 s rounds each (medians)": interleaved(
                first_page, deep_page, settings, workdir, rounds=5, seconds=2, connections=1
            ),
        }
        one = replace(settings, duration=min(settings.duration, 8.0))
        # A word in ~13% of the notes: ts_rank over every match takes most of a second, so at
        # 32 connections requests would time out; one client shows the cost per request.
        common = measure(search_common, one, workdir, sampler, connections=1, threads=1)
        rows.append(
            Row(f"`GET /v1/search?q={seed.COMMON_WORD}` (~13% match; one client, 8 s)", common)
        )
        peak = sampler.peak_mb
        sampler.stop()
        sampler = None
        custom = custom_plans(service, search_rare, settings, workdir)
        if report is not None:
            seeded = (
                f"{report.notes:,} notes, {report.bench_notes:,} of them the bench owner's "
                f"(seeded in {report.seconds:.0f}s; tags linked: {report.tagged}; "
                f"revisions written: {report.revisions})"
            )
        else:
            seeded = "reused from an earlier run (REUSE_DB=1)"
        tags_note = (
            'accepted, so each POST sends `"tags": ["a","b","c"]`'
            if facts["tags"]
            else "refused with 422, so each POST sends only `title` and `body`"
        )
        about = {
            "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "commit": _git_commit(),
            "machine": f"{os.cpu_count()} cores shared by wrk, both servers and PostgreSQL; "
            f"Python {platform.python_version()}; load average before the run {load_before}",
            "tools": f"{_wrk_version()}; wrk -t2 -c32 -d{settings.duration:g}s after a "
            f"{settings.warmup:g}s warm-up per path; one uvicorn worker per server, both with "
            "`--log-level warning --no-access-log`",
            "load average after the run": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
            "data": seeded,
            "single-row ids": f"{len(ids):,} random ids of existing bench notes, round robin",
            "POST tags probe": tags_note,
        }
        section = render(about, [baseline_first, baseline_last], rows, pages, peak, custom)
        print()
        print(section)
        write_results(section)
        log(f"wrote {RESULTS.relative_to(ROOT)}")
        if settings.profile:
            profile(service, [note_get, post, first_page], settings, workdir)
        return 0
    finally:
        for running in (sampler, base_sampler):
            if running is not None:
                running.stop()
        for server in servers:
            server.stop()
        if settings.keep_db:
            log(f"kept database {settings.database} (KEEP_DB=1)")
        else:
            asyncio.run(seed.drop_database(ADMIN_URL, settings.database))
            log(f"dropped database {settings.database}")


if __name__ == "__main__":
    sys.exit(main())
