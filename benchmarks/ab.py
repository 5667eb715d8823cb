"""Side by side: the working tree against an earlier commit, same machine, same PostgreSQL, one
run. Each side gets its own database, migrated and seeded alike, and its own `notes-service
serve` (one worker, production settings); wrk then alternates short rounds of each path between
the two, so load drifting on the machine hits both alike.

    .venv/bin/python -m benchmarks.ab REF [--paths post,get,list,search] [--notes N]

REF is any git revision (its tree is exported to a temporary folder and run from there with this
venv). Settings: BENCH_AB_ROUNDS (5), BENCH_AB_SECONDS (4), BENCH_AB_CONNECTIONS (32), and
BENCH_AB_WEBHOOK_URL: when set, the working tree's side subscribes one webhook to that URL (on
127.0.0.1: run `python -m benchmarks.receiver PORT`) after it is prepared, so that every change
is delivered while it serves; REF's side has none. BENCH_AB_DB names the two databases
(`{BENCH_AB_DB}_0`, `_1`; default notes_ab), so that two runs on one server do not collide.
BENCH_AB_ENV adds settings to the working tree's side only (`DB_POOL_MAX=20,GC_...=1`, each
name without its `NOTES_` prefix): a setting compared with REF's default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import httpx

from benchmarks import seed
from benchmarks.load import Scenario
from benchmarks.servers import ROOT, Server, free_port, service_env
from benchmarks.steps import ADMIN_URL, Settings, interleaved, log

PATHS = ("post", "get", "list", "search")


def export_tree(ref: str, into: Path) -> str:
    commit = subprocess.run(  # noqa: S603
        ["git", "rev-parse", "--short", ref],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    archive = subprocess.run(  # noqa: S603
        ["git", "archive", commit],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)  # noqa: S603, S607
    return commit


def run_cli(tree: Path, args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "notes_service", *args],
        cwd=tree, env=env | {"PYTHONPATH": str(tree)}, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{tree}: notes-service {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def new_key(tree: Path, env: dict[str, str], owner: str) -> str:
    printed = run_cli(tree, ["keys", "create", "--owner", owner], env)
    return next(
        line.removeprefix("key:").strip()
        for line in printed.splitlines()
        if line.startswith("key:")
    )


def prepare(tree: Path, database: str, notes: int) -> tuple[dict[str, str], str, str]:
    """A new database migrated and seeded by `tree`'s code: its environment, a key, a note id
    ("" without notes)."""
    url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    env = service_env(url)
    asyncio.run(seed.recreate_database(ADMIN_URL, database))
    run_cli(tree, ["migrate"], env)
    key = new_key(tree, env, "bench")
    if not notes:
        return env, key, ""
    owner = asyncio.run(seed.owner_id(url, "bench"))
    asyncio.run(seed.seed(url, owner, notes))
    note_id = str(asyncio.run(seed.sample_note_ids(url, owner, 1))[0])
    return env, key, note_id


def subscribe(server: Server, key: str, url: str) -> None:
    answer = httpx.post(
        server.url + "/v1/webhooks",
        json={"url": url},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    if answer.status_code != 201:
        raise RuntimeError(f"subscribing a webhook failed: {answer.status_code} {answer.text}")
    log(f"{server.name}: webhook subscribed to {url}")


def scenarios(server: Server, key: str, note_id: str, paths: list[str]) -> list[Scenario]:
    auth = {"Authorization": f"Bearer {key}"}
    body = json.dumps({"title": "bench", "body": "posted", "tags": ["alpha", "beta", "gamma"]})
    made = {
        "post": Scenario(
            "post",
            server.url + "/v1/notes",
            auth | {"Content-Type": "application/json"},
            method="POST",
            body=body,
        ),
        "get": Scenario("get", f"{server.url}/v1/notes/{note_id}", auth),
        "list": Scenario("list", f"{server.url}/v1/notes?limit=20", auth),
        "search": Scenario("search", f"{server.url}/v1/search?q={seed.RARE_WORD}", auth),
    }
    # Distinct names: interleaved() keeps each scenario's rounds under its name.
    return [replace(made[p], name=f"{p} ({server.name})") for p in paths]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    parser.add_argument("ref", help="the git revision to compare the working tree with")
    parser.add_argument("--paths", default="post,get")
    parser.add_argument("--notes", type=int, default=20_000)
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    if unknown := set(paths) - set(PATHS):
        parser.error(f"unknown paths {sorted(unknown)}; choose from {PATHS}")
    rounds = int(os.environ.get("BENCH_AB_ROUNDS", "5"))
    seconds = float(os.environ.get("BENCH_AB_SECONDS", "4"))
    connections = int(os.environ.get("BENCH_AB_CONNECTIONS", "32"))
    webhook_url = os.environ.get("BENCH_AB_WEBHOOK_URL", "")
    prefix = os.environ.get("BENCH_AB_DB", "notes_ab")
    extra = dict(
        pair.split("=", 1) for pair in os.environ.get("BENCH_AB_ENV", "").split(",") if pair
    )

    workdir = Path(tempfile.mkdtemp(prefix="notes-ab-"))
    old_tree = workdir / "tree"
    old_tree.mkdir()
    servers: list[Server] = []
    try:
        commit = export_tree(args.ref, old_tree)
        sides: dict[str, list[Scenario]] = {}
        for name, tree in (("new", ROOT), (commit, old_tree)):
            log(f"{name}: migrating and seeding {args.notes:,} notes")
            env, key, note_id = prepare(tree, f"{prefix}_{len(sides)}", args.notes)
            if name == "new":
                env |= {f"NOTES_{k.upper()}": v for k, v in extra.items()}
            if name == "new" and webhook_url:
                env["NOTES_WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
            log_file = workdir / f"{len(sides)}.log"
            server = Server(name, "", free_port(), env, log_file, tree=tree)
            server.start("/readyz")
            servers.append(server)
            if name == "new" and webhook_url:
                subscribe(server, key, webhook_url)
            sides[name] = scenarios(server, key, note_id, paths)
        settings = Settings(database=f"{prefix}_0")
        lines = [
            f"| path | working tree | {commit} | ratio | p99/p50 working tree | p99/p50 {commit} |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for new, old in zip(sides["new"], sides[commit], strict=True):
            a, b = interleaved(
                new, old, settings, workdir, rounds=rounds, seconds=seconds,
                connections=connections,
            )  # fmt: skip
            path = new.name.split()[0]
            tails = f"{a.p99_ms / a.p50_ms:.1f}x | {b.p99_ms / b.p50_ms:.1f}x"
            lines.append(
                f"| {path} | {a.rps:,.0f} | {b.rps:,.0f} | {a.rps / b.rps:.2f}x | {tails} |"
            )
        print("\n".join(lines))
    finally:
        for server in servers:
            server.stop()
        for i in range(2):
            asyncio.run(seed.drop_database(ADMIN_URL, f"{prefix}_{i}"))
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
