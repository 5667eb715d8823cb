"""How long a committed change takes to reach the change feed and the stream while something else
runs on the same PostgreSQL server (SPEC §5 v3: within 1 s, whatever else runs):

- `other-database`: a write transaction held open in another database of the server (for 8 s
  after the note's POST);
- `other-owner-import`: another owner's `POST /v1/import` of 10,000 notes (one transaction).

    .venv/bin/python -m benchmarks.freshness [REF]

With REF (a git revision), that commit's tree is measured the same way after the working tree's
(benchmarks/ab.py runs it). Each case: the median and the worst of 3 notes, from the POST's answer
to the note's first sight in `GET /v1/changes` (polled every 10 ms) and in the event stream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import asyncpg
import httpx

from benchmarks import ab, seed
from benchmarks.servers import ROOT, Server, free_port
from benchmarks.steps import ADMIN_URL, log

NOTES = 3
IMPORT_LINES = 10_000
HOLD = 8.0  # seconds the transaction in another database stays open after the note's POST
GIVE_UP = 30.0


@asynccontextmanager
async def open_transaction_elsewhere() -> AsyncIterator[None]:
    """A write transaction in the server's `postgres` database, open for HOLD seconds."""
    conn = await asyncpg.connect(ADMIN_URL)
    transaction = conn.transaction()
    await transaction.start()
    await conn.fetchval("SELECT pg_current_xact_id()")

    async def end() -> None:
        await asyncio.sleep(HOLD)
        await transaction.commit()

    ending = asyncio.create_task(end())
    try:
        yield
        await ending
    finally:
        ending.cancel()
        await conn.close()


@asynccontextmanager
async def import_by_another_owner(client: httpx.AsyncClient, key: str) -> AsyncIterator[None]:
    lines = "\n".join(
        json.dumps({"id": str(uuid.uuid4()), "title": f"imported {i}"}) for i in range(IMPORT_LINES)
    )
    task = asyncio.create_task(
        client.post(
            "/v1/import",
            content=lines,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
            timeout=120,
        )
    )
    await asyncio.sleep(0.2)  # the import's transaction is open and writing
    try:
        yield
    finally:
        (await task).raise_for_status()


async def _feed_cursor(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    cursor: str | None = None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = (await client.get("/v1/changes", params=params, headers=auth)).json()
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return str(cursor)


async def one_note(
    client: httpx.AsyncClient, auth: dict[str, str], busy: AbstractAsyncContextManager[None]
) -> tuple[float, float]:
    """(seconds to the feed, seconds to the stream) for one note posted while `busy` runs."""
    cursor = await _feed_cursor(client, auth)
    seen = asyncio.Event()
    title = f"fresh {uuid.uuid4()}"

    async def stream() -> float:
        headers = auth | {"Last-Event-ID": cursor}
        async with client.stream("GET", "/v1/changes/stream", headers=headers) as response:
            seen.set()
            async for line in response.aiter_lines():
                if line.startswith("data:") and title in line:
                    return time.monotonic()
        raise RuntimeError("the stream ended")

    streaming = asyncio.create_task(stream())
    await seen.wait()
    await asyncio.sleep(0.2)  # the stream has caught up and waits
    async with busy:
        answer = await client.post("/v1/notes", json={"title": title}, headers=auth)
        answer.raise_for_status()
        posted = time.monotonic()
        feed = GIVE_UP
        while time.monotonic() - posted < GIVE_UP:
            page = await client.get("/v1/changes", params={"cursor": cursor}, headers=auth)
            if any(c["note"] and c["note"]["title"] == title for c in page.json()["changes"]):
                feed = time.monotonic() - posted
                break
            await asyncio.sleep(0.01)
        try:
            pushed = await asyncio.wait_for(streaming, GIVE_UP) - posted
        except TimeoutError:
            pushed = GIVE_UP
    return feed, pushed


async def measure(server: Server, keys: tuple[str, str]) -> dict[str, tuple[float, ...]]:
    auth = {"Authorization": f"Bearer {keys[0]}"}
    results: dict[str, tuple[float, ...]] = {}
    async with httpx.AsyncClient(base_url=server.url, timeout=GIVE_UP + 5) as client:
        for case in ("other-database", "other-owner-import"):
            feed, pushed = [], []
            for _ in range(NOTES):
                busy = (
                    open_transaction_elsewhere()
                    if case == "other-database"
                    else import_by_another_owner(client, keys[1])
                )
                f, p = await one_note(client, auth, busy)
                feed.append(f)
                pushed.append(p)
            results[case] = (
                statistics.median(feed),
                max(feed),
                statistics.median(pushed),
                max(pushed),
            )
            log(f"  {case}: feed {results[case][0]:.3f} s (worst {results[case][1]:.3f})")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.freshness", description=__doc__)
    parser.add_argument("ref", nargs="?", help="also measure this git revision")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="notes-fresh-"))
    trees: list[tuple[str, Path]] = [("working tree", ROOT)]
    if args.ref:
        (workdir / "tree").mkdir()
        trees.append((ab.export_tree(args.ref, workdir / "tree"), workdir / "tree"))
    lines = [
        "| tree | case | feed p50 | feed worst | stream p50 | stream worst |",
        "|---|---|--:|--:|--:|--:|",
    ]
    try:
        for i, (name, tree) in enumerate(trees):
            log(f"{name}: measuring")
            database = f"notes_fresh_{i}"
            env, key, _ = ab.prepare(tree, database, notes=0)
            other = ab.new_key(tree, env, "fresh-other")
            server = Server(name, "", free_port(), env, workdir / f"{i}.log", tree=tree)
            server.start("/readyz")
            try:
                results = asyncio.run(measure(server, (key, other)))
            finally:
                server.stop()
                asyncio.run(seed.drop_database(ADMIN_URL, database))
            for case, (f50, fmax, s50, smax) in results.items():
                lines.append(
                    f"| {name} | {case} | {f50:.3f} s | {fmax:.3f} s | {s50:.3f} s | {smax:.3f} s |"
                )
        print("\n".join(lines))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
