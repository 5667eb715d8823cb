"""The load benchmark of SPEC §7, end to end: database, seed, both servers, wrk, report.

Run it from the project root through `benchmarks/run.sh [--quick]`. Settings (environment):
BENCH_DB (notes_bench), BENCH_NOTES (1000000; 100000 with --quick), BENCH_DURATION (15; 3),
BENCH_WARMUP (3; 1), BENCH_PGBENCH_CLIENTS (16), KEEP_DB=1 keeps the database afterwards,
REUSE_DB=1 reuses a kept one instead of re-seeding, PROFILE=1 also samples the service worker
with py-spy (after the measured runs), PGBOUNCER_DIR (/tmp/notes-bench-pgbouncer).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import ceilings, scaleout, seed
from benchmarks.load import RssSampler, Scenario
from benchmarks.report import DEEP_PAGE, RESULTS, Row, render, write_results
from benchmarks.servers import ROOT, Server, free_port, service_env
from benchmarks.steps import (
    ADMIN_URL,
    ROTATING_IDS,
    Settings,
    git_commit,
    interleaved,
    log,
    measure,
    prepare_database,
    probe,
    profile,
    terminate,
    wrk_version,
)

PATH_ROWS = (
    # scenario, label, target ratio to the baseline
    ("note_get", "`GET /v1/notes/{id}`", 1.0),
    ("list_first", "`GET /v1/notes?limit=20` (page 1)", 0.8),
    ("list_page100", f"`GET /v1/notes?limit=20&cursor=…` (page {DEEP_PAGE})", 0.8),
    ("note_post", "`POST /v1/notes` with 3 tags", 0.5),
    ("search_rare", f"`GET /v1/search?q={seed.RARE_WORD}` (0.1% match; after the POSTs)", 0.5),
)


def main() -> int:
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    settings = Settings.from_args(sys.argv[1:])
    load_before = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    servers: list[Server] = []
    sampler: RssSampler | None = None
    base_sampler: RssSampler | None = None
    # One environment (one cursor secret) for every service process and the capture.
    env = service_env(settings.url)
    try:
        key, owner, report = prepare_database(settings, env)
        ids = [str(i) for i in asyncio.run(seed.sample_note_ids(settings.url, owner, ROTATING_IDS))]
        workdir = Path(tempfile.mkdtemp(prefix="notes-bench-"))
        service = Server(
            "service", "", free_port(), env, workdir / "service.log", serve_command=True
        )
        baseline = Server(
            "baseline", "benchmarks.baseline_app:app", free_port(),
            dict(os.environ, BASELINE_DATABASE_URL=settings.url), workdir / "baseline.log",
        )  # fmt: skip
        servers += [service, baseline]
        service.start("/readyz")
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
        deep = f"/v1/notes?limit=20&cursor={facts['deep_cursor']}"
        paths = {
            "note_get": ceilings.Request("GET", f"/v1/notes/{ids[0]}"),
            "list_first": ceilings.Request("GET", "/v1/notes?limit=20"),
            "list_page100": ceilings.Request("GET", deep),
            "note_post": ceilings.Request("POST", "/v1/notes", post_body),
            "search_rare": ceilings.Request("GET", f"/v1/search?q={seed.RARE_WORD}"),
            "search_common": ceilings.Request("GET", f"/v1/search?q={seed.COMMON_WORD}"),
        }
        log("capturing the statements of one request per path (in process)")
        captured = asyncio.run(ceilings.capture(env, key, paths))
        base_scenario = Scenario("baseline_item", f"{baseline.url}/items/", rotate_ids=ids)
        scenarios = {
            "note_get": Scenario("note_get", f"{svc}/v1/notes/", auth, rotate_ids=ids),
            "list_first": Scenario("list_first", f"{svc}/v1/notes?limit=20", auth),
            "list_page100": Scenario("list_page100", f"{svc}{deep}", auth),
            "note_post": Scenario(
                "note_post",
                f"{svc}/v1/notes",
                auth | {"Content-Type": "application/json"},
                method="POST",
                body=json.dumps(post_body),
            ),
            "search_rare": Scenario("search_rare", f"{svc}/v1/search?q={seed.RARE_WORD}", auth),
            "search_common": Scenario(
                "search_common", f"{svc}/v1/search?q={seed.COMMON_WORD}", auth
            ),
        }

        def ceiling(name: str, clients: int) -> ceilings.Ceiling:
            statements, created = captured[name]
            script, options = ceilings.pgbench_script(statements, created, workdir, name)
            asyncio.run(seed.wait_for_idle(settings.url))
            found = ceilings.run_pgbench(
                settings.url, script, options, seconds=settings.duration, clients=clients,
                statements=len(statements),
            )  # fmt: skip
            log(f"  pgbench -c{clients} {name}: {found.tps:,.0f} tps, {found.latency_ms:.2f} ms")
            return found

        one = replace(settings, duration=min(settings.duration * 2, 8.0))

        def common_search(when: str) -> Row:
            """A word in ~13% of the seeded notes, one client: the cost of one request (target
            p50 ≤ 25 ms)."""
            result = measure(
                scenarios["search_common"], one, workdir, sampler, connections=1, threads=1
            )
            return Row(
                f"`GET /v1/search?q={seed.COMMON_WORD}` (~13% match; one client; {when})",
                result, ceiling=ceiling("search_common", 1), p50_limit_ms=25.0,
                name="search_common",
            )  # fmt: skip

        baseline_first = measure(base_scenario, settings, workdir, base_sampler)
        rows: list[Row] = []
        # In this order: the searches run after the POSTs (service and pgbench), so they pay for
        # whatever the writes left in the indexes. The common word also runs before them: the
        # POSTs write tens of thousands of notes that hold none of the seed's words, so after
        # them the newest notes no longer hold the word at ~13% (see RESULTS.md).
        for name, label, target in PATH_ROWS:
            if name == "note_post":
                rows.append(common_search("before the POSTs"))
            result = measure(scenarios[name], settings, workdir, sampler)
            share = 0.75 if name in ("note_post", "search_rare") else None
            found = ceiling(name, settings.pgbench_clients)
            rows.append(Row(label, result, target, found, name=name, share_target=share))
        rows.append(common_search("after the POSTs"))
        rounds = (2, 2.0, 3, 1.0) if settings.quick else (3, 5.0, 5, 2.0)
        first_page, deep_page = scenarios["list_first"], scenarios["list_page100"]
        pages = {
            f"wrk -t2 -c32, {rounds[0]} alternating {rounds[1]:g} s rounds each (medians)": (
                interleaved(
                    first_page, deep_page, settings, workdir,
                    rounds=rounds[0], seconds=rounds[1], connections=32,
                )
            ),
            f"wrk -t1 -c1, {rounds[2]} alternating {rounds[3]:g} s rounds each (medians)": (
                interleaved(
                    first_page, deep_page, settings, workdir,
                    rounds=rounds[2], seconds=rounds[3], connections=1,
                )
            ),
        }  # fmt: skip
        peak = sampler.peak_mb
        sampler.stop()
        sampler = None
        service.stop()
        scaled = [scenarios[n] for n in ("note_get", "list_first", "note_post")]
        workers = scaleout.run(
            env, workdir, scaled, lambda s: measure(s, settings, workdir, None), log
        )
        names = {s.name for s in scaled}
        workers = {"1 worker": {r.name: r.result for r in rows if r.name in names}} | workers
        baseline_last = measure(base_scenario, settings, workdir, base_sampler)
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
            "mode": "`--quick`" if settings.quick else "full",
            "commit": git_commit(),
            "machine": f"{os.cpu_count()} cores shared by wrk, pgbench, both servers and "
            f"PostgreSQL; Python {platform.python_version()}; load average before the run "
            f"{load_before}",
            "tools": f"{wrk_version()}; wrk -t2 -c32 -d{settings.duration:g}s after a "
            f"{settings.warmup:g}s warm-up per path; pgbench -M prepared "
            f"-c{settings.pgbench_clients} -j2 -T{settings.duration:g}; service as deployed "
            "(`notes-service serve --workers 1`, `NOTES_ENV=production`, "
            "`NOTES_LOG_LEVEL=WARNING`), baseline `uvicorn --workers 1 --log-level warning "
            "--no-access-log`",
            "load average after the run": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
            "data": seeded,
            "single-row ids": f"{len(ids):,} random ids of existing bench notes, round robin",
            "POST tags probe": tags_note,
        }
        section = render(about, [baseline_first, baseline_last], rows, pages, peak, workers)
        print()
        print(section)
        write_results(section)
        log(f"wrote {RESULTS.relative_to(ROOT)}")
        if settings.profile:
            service.start("/readyz")
            profile(service, [scenarios[n] for n in ("note_get", "note_post")], settings, workdir)
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
