"""The read side on a real streaming hot standby (the pair: tests/support/standby.py), behind a
real uvicorn: the primary takes the writes and `GET /v1/notes/{id}`, the standby every read route.

Replay on the standby is paused (`pg_wal_replay_pause()`) where a test needs it to lag: a note
written then is on the primary and provably not yet on the standby, so an answer that lacks it
came from the standby, and one that has it from the primary.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.cli import run_cli
from tests.support.pages import read_feed
from tests.support.servers import REQUIRE_TOOLS, Service, cli_key, free_port, until
from tests.support.standby import (
    ReplicatedPair,
    binaries_for,
    run_as,
    server_version,
    wait_replayed,
)

ACQUIRE_TIMEOUT = 2.0
PROBLEM = "application/problem+json"


def _skip(reason: str) -> None:
    if REQUIRE_TOOLS:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
async def pair() -> AsyncIterator[ReplicatedPair]:
    test_server = os.environ.get("NOTES_TEST_DATABASE_URL")
    version = await server_version(test_server) if test_server else 0
    bin_dir = binaries_for(version, embedded=not test_server)
    if not (bin_dir / "pg_basebackup").exists():
        _skip(f"no pg_basebackup in {bin_dir}: the test server's binaries cannot make a standby")
    replicated = ReplicatedPair(
        bin_dir, run_as(embedded=not test_server), (free_port(), free_port())
    )
    try:
        replicated.start()
        result = run_cli("migrate", database_url=replicated.primary.url)
        assert result.returncode == 0, result.stderr
        await wait_replayed(replicated.primary.url, replicated.standby.url)
        yield replicated
    finally:
        replicated.close()


@pytest.fixture(scope="module")
def svc(pair: ReplicatedPair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    env = {
        "NOTES_DATABASE_URL": pair.primary.url,
        "NOTES_READ_DATABASE_URL": pair.standby.url,
        "NOTES_DB_ACQUIRE_TIMEOUT": str(ACQUIRE_TIMEOUT),
    }
    server = Service(tmp_path_factory.mktemp("standby") / "service.log", env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.kill()


@pytest.fixture
async def standby(pair: ReplicatedPair) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the running standby; replay is running again afterwards."""
    if not (pair.standby.data_dir / "postmaster.pid").exists():
        pair.standby.start()
    conn = await asyncpg.connect(pair.standby.url)
    try:
        assert await conn.fetchval("SELECT pg_is_in_recovery()")
        yield conn
    finally:
        if not conn.is_closed():
            await conn.execute("SELECT pg_wal_replay_resume()")
            await conn.close()


async def pause_replay(standby: asyncpg.Connection) -> None:
    await standby.execute("SELECT pg_wal_replay_pause()")
    # A pause is only requested at first; it holds once replay stops at a record boundary.
    await until(
        lambda: standby.fetchval("SELECT pg_get_wal_replay_pause_state() = 'paused'"),
        30,
        "replay to pause",
    )


@pytest.fixture
async def client(svc: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=svc.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def headers(pair: ReplicatedPair, svc: Service) -> dict[str, str]:
    return cli_key(pair.primary.url, owner="standby-reader")


async def _post(client: httpx.AsyncClient, headers: dict[str, str], **note: Any) -> dict[str, Any]:
    response = await client.post("/v1/notes", json=note, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _read_views(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    """Every read route's answer, as text to look for note ids and titles in."""
    routes: list[tuple[str, dict[str, str]]] = [
        ("/v1/notes", {}),
        ("/v1/notes", {"sort": "created_at", "trashed": "false"}),
        ("/v1/search", {"q": "lighthouse"}),
        ("/v1/search", {"q": "lighthose", "fuzzy": "true"}),
        ("/v1/tags", {}),
        ("/v1/stats", {}),
        ("/v1/changes", {}),
        ("/v1/export", {"revisions": "true"}),
    ]
    views = {}
    for path, params in routes:
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, (path, params, response.text)
        views[f"{path}?{params}"] = response.text
    return views


async def test_every_read_route_answers_from_the_standby(
    pair: ReplicatedPair,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    standby: asyncpg.Connection,
) -> None:
    replayed = await _post(client, headers, title="lighthouse one", tags=["replayed"])
    await wait_replayed(pair.primary.url, pair.standby.url)
    await pause_replay(standby)

    lagging = await _post(client, headers, title="lighthouse two", tags=["lagging"])
    # Read-your-writes: the single-note route reads the primary, so it sees the note at once.
    by_id = await client.get(f"/v1/notes/{lagging['id']}", headers=headers)
    assert by_id.status_code == 200 and by_id.json()["title"] == "lighthouse two"

    # Every read route works on a hot standby (a write, a temporary table or anything else a
    # standby refuses would fail it), and none of them sees the note the standby lacks.
    for route, text in (await _read_views(client, headers)).items():
        if "stats" not in route:
            assert replayed["id"] in text or "replayed" in text, route
        assert lagging["id"] not in text and "lagging" not in text, route
    stats = (await client.get("/v1/stats", headers=headers)).json()
    assert stats["notes"] == await standby.fetchval(
        "SELECT count(*) FROM notes n JOIN owners o ON o.id = n.owner_id "
        "WHERE o.name = 'standby-reader' AND n.deleted_at IS NULL"
    )

    await standby.execute("SELECT pg_wal_replay_resume()")
    await until(
        lambda: _listed(client, headers, lagging["id"]), 60, "the note to reach the standby"
    )


async def _listed(client: httpx.AsyncClient, headers: dict[str, str], note_id: str) -> bool:
    response = await client.get("/v1/notes", params={"limit": 100}, headers=headers)
    return response.status_code == 200 and any(i["id"] == note_id for i in response.json()["items"])


async def test_the_change_feed_is_commit_safe_on_the_standby(
    pair: ReplicatedPair,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    standby: asyncpg.Connection,
) -> None:
    first = await _post(client, headers, title="feed first")
    second = await _post(client, headers, title="feed second")
    await wait_replayed(pair.primary.url, pair.standby.url)
    _, cursor = await read_feed(client, headers)

    primary_a, primary_b = (
        await asyncpg.connect(pair.primary.url),
        await asyncpg.connect(pair.primary.url),
    )
    try:
        tx_a = primary_a.transaction()
        await tx_a.start()
        await primary_a.execute(
            "UPDATE notes SET title = 'by A', version = version + 1 WHERE id = $1", first["id"]
        )  # A writes first ...
        await primary_b.execute(
            "UPDATE notes SET title = 'by B', version = version + 1 WHERE id = $1", second["id"]
        )  # ... B (its own transaction) commits first.
        await wait_replayed(pair.primary.url, pair.standby.url)
        between, cursor_between = await read_feed(client, headers, cursor)
        # B has committed: served at once, whatever A (still open) does; the feed's clock is the
        # owner's commits, replayed in commit order, not the primary's oldest transaction.
        assert [c["note"]["title"] for c in between] == ["by B"]

        await pause_replay(standby)
        await tx_a.commit()
        assert (await read_feed(client, headers, cursor_between))[0] == []  # not replayed yet
    finally:
        await primary_a.close()
        await primary_b.close()

    await standby.execute("SELECT pg_wal_replay_resume()")
    await wait_replayed(pair.primary.url, pair.standby.url)
    after, _ = await read_feed(client, headers, cursor_between)
    assert [c["note"]["title"] for c in after] == ["by A"]


async def test_a_standby_outage_fails_only_the_reads_and_they_recover(
    pair: ReplicatedPair,
    svc: Service,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    standby: asyncpg.Connection,
) -> None:
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200
    await standby.close()
    pair.standby.stop()
    try:
        for path in ("/v1/notes", "/v1/stats", "/v1/changes", "/v1/search?q=x"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"] == PROBLEM
            assert int(response.headers["retry-after"]) >= 1
        # Writes, and the single-note read, are on the primary: unaffected.
        note = await _post(client, headers, title="written while the standby is down")
        assert (await client.get(f"/v1/notes/{note['id']}", headers=headers)).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {
            "write_pool": "ok",
            "read_pool": "failed",
            "migrations": "ok",
            "listener": "ok",  # on the primary
        }
        assert ready.json()["detail"] == "Readiness checks failed: read_pool"
    finally:
        pair.standby.start()

    # The same process recovers: the pool reconnects, and the note written meanwhile arrives.
    await until(lambda: _listed(client, headers, note["id"]), 60, "reads to recover")
    assert (await client.get("/readyz")).status_code == 200
    assert svc.process.poll() is None
