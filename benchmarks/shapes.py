"""Server shapes side by side, one database, one run: `notes-service serve` with one worker (the
reference), `serve --workers 2`, granian (one worker, uvloop) serving the same app factory, and
the tutorial baseline. wrk alternates short rounds between them, so load drifting on the shared
machine hits all alike; ratios are to the one-worker `serve` and to the baseline.

    .venv/bin/python -m benchmarks.shapes [--paths get,list,post] [--notes N]

Measured only: granian is not a dependency (`pip install granian` into the venv first; without
it its column is left out). Settings: BENCH_SHAPES_ROUNDS (5), BENCH_SHAPES_SECONDS (4),
BENCH_SHAPES_DB (notes_shapes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
from pathlib import Path

from benchmarks import seed
from benchmarks.load import Scenario, WrkResult, median_of, run_wrk
from benchmarks.servers import BIN, Server, free_port, service_env
from benchmarks.steps import ADMIN_URL, log

PATHS = ("get", "list", "post")


def granian_command(port: int) -> list[str]:
    return [
        str(BIN / "granian"), "--interface", "asgi", "--factory", "--loop", "uvloop",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--no-access-log", "--log-level", "warning", "notes_service.web.app:create_app",
    ]  # fmt: skip


def scenarios(origin: str, key: str, note_id: str, paths: list[str]) -> dict[str, Scenario]:
    auth = {"Authorization": f"Bearer {key}"}
    body = json.dumps({"title": "bench", "body": "posted", "tags": ["alpha", "beta", "gamma"]})
    made = {
        "get": Scenario("get", f"{origin}/v1/notes/{note_id}", auth),
        "list": Scenario("list", f"{origin}/v1/notes?limit=20", auth),
        "post": Scenario(
            "post",
            f"{origin}/v1/notes",
            auth | {"Content-Type": "application/json"},
            method="POST",
            body=body,
        ),
    }
    return {p: made[p] for p in paths}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shapes", description=__doc__)
    parser.add_argument("--paths", default="get,list,post")
    parser.add_argument("--notes", type=int, default=20_000)
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    if unknown := set(paths) - set(PATHS):
        parser.error(f"unknown paths {sorted(unknown)}; choose from {PATHS}")
    rounds = int(os.environ.get("BENCH_SHAPES_ROUNDS", "5"))
    seconds = float(os.environ.get("BENCH_SHAPES_SECONDS", "4"))
    database = os.environ.get("BENCH_SHAPES_DB", "notes_shapes")
    url = f"postgresql://postgres@127.0.0.1:5432/{database}"

    from benchmarks.ab import new_key, run_cli
    from benchmarks.servers import ROOT

    workdir = Path(tempfile.mkdtemp(prefix="notes-shapes-"))
    servers: list[Server] = []
    try:
        log(f"migrating and seeding {args.notes:,} notes")
        env = service_env(url)
        asyncio.run(seed.recreate_database(ADMIN_URL, database))
        run_cli(ROOT, ["migrate"], env)
        key = new_key(ROOT, env, "bench")
        owner = asyncio.run(seed.owner_id(url, "bench"))
        asyncio.run(seed.seed(url, owner, args.notes))
        note_id = str(asyncio.run(seed.sample_note_ids(url, owner, 1))[0])
        shapes = {
            "serve, 1 worker": Server("serve1", "", free_port(), env, workdir / "1.log",
                                      serve_command=True),
            "serve --workers 2": Server("serve2", "", free_port(), env, workdir / "2.log",
                                        serve_command=True, workers=2),
            "baseline": Server("baseline", "benchmarks.baseline_app:app", free_port(),
                               env | {"BASELINE_DATABASE_URL": url}, workdir / "b.log"),
        }  # fmt: skip
        if (BIN / "granian").exists():
            shapes["granian, 1 worker"] = Server(
                "granian", "", free_port(), env, workdir / "g.log", serve_command=True
            )
        for name, server in shapes.items():
            if server.name == "granian":
                _start_granian(server)
            else:
                server.start("/readyz" if server.serve_command else "/docs")
            servers.append(server)
            log(f"{name}: ready on {server.url}")
        results: dict[str, dict[str, WrkResult]] = {}
        for path in paths:
            runs: dict[str, list[WrkResult]] = {name: [] for name in shapes}
            log(f"wrk -t2 -c32: {path}, {rounds} x {seconds:g}s per shape")
            for _ in range(rounds):
                for name, server in shapes.items():
                    if name == "baseline" and path != "get":
                        continue
                    target = "get_item" if name == "baseline" else path
                    scenario = _scenario(server, key, note_id, target)
                    runs[name].append(run_wrk(scenario, workdir, duration=seconds))
            results[path] = {name: median_of(r) for name, r in runs.items() if r}
        print(_table(results))
    finally:
        for server in servers:
            server.stop()
        asyncio.run(seed.drop_database(ADMIN_URL, database))
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _scenario(server: Server, key: str, note_id: str, path: str) -> Scenario:
    if path == "get_item":
        return Scenario(f"baseline-{server.port}", f"{server.url}/items/{note_id}")
    made = scenarios(server.url, key, note_id, [path])[path]
    return Scenario(f"{path}-{server.port}", made.url, made.headers, made.method, made.body)


def _start_granian(server: Server) -> None:
    import subprocess
    import time

    import httpx

    from benchmarks.servers import ROOT

    with server.log.open("wb") as out:
        server.process = subprocess.Popen(  # noqa: S603
            granian_command(server.port), cwd=ROOT, env=server.env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"granian exited at start-up:\n{server.log.read_text()}")
        try:
            if httpx.get(server.url + "/readyz", timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"granian was not ready:\n{server.log.read_text()}")


def _table(results: dict[str, dict[str, WrkResult]]) -> str:
    base = results.get("get", {}).get("baseline")
    lines = [
        "| path | shape | req/s | x serve, 1 worker | x baseline | p50 ms | p99 ms | p99/p50 |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for path, by_shape in results.items():
        reference = by_shape["serve, 1 worker"].rps
        for name, r in by_shape.items():
            against = f"{r.rps / base.rps:.2f}x" if base else "—"
            lines.append(
                f"| {path} | {name} | {r.rps:,.0f} | {r.rps / reference:.2f}x | {against} | "
                f"{r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.p99_ms / r.p50_ms:.1f}x |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
