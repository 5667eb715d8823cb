"""Both pools release connections without asyncpg's reset query (pools.keep_session). That is only
safe while no request leaves session state behind on a pooled connection: these tests check that
a release sends nothing to the server, that an open transaction is still rolled back, and that
after real traffic over every kind of route no connection of either pool carries a transaction,
cursor, listener, advisory lock, temporary table or session-level setting."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from tortoise import connections

from notes_service.platform.pools import BoundedPool
from notes_service.platform.settings import Settings
from notes_service.platform.timeouts import session_settings
from tests.support.factories import api_key, create_note

LEFTOVERS = """
SELECT (SELECT coalesce(array_agg(name || ': ' || statement), '{}')
        FROM pg_cursors WHERE name <> '') AS cursors,  -- '': this query's own portal
       (SELECT count(*) FROM pg_listening_channels()) AS listening,
       (SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks,
       (SELECT count(*) FROM pg_class
        WHERE relnamespace = pg_my_temp_schema()) AS temporary_relations,
       -- asyncpg's type introspection turns jit off and back on with set_config(): the source
       -- is then 'session', at the value RESET ALL would give; count only real changes.
       (SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM pg_settings
        WHERE source = 'session' AND setting IS DISTINCT FROM reset_val) AS session_settings
"""
CLEAN = {
    "cursors": [],
    "listening": 0,
    "advisory_locks": 0,
    "temporary_relations": 0,
    "session_settings": [],
}


def _pools(app: FastAPI) -> dict[str, BoundedPool]:
    write = connections.get("default")._pool
    read = app.state.read_db._db._backend._pool
    assert isinstance(write, BoundedPool) and isinstance(read, BoundedPool)
    return {"write": write, "read": read}


async def _activity(url: str, pid: int) -> dict[str, Any]:
    observer = await asyncpg.connect(url)
    try:
        row = await observer.fetchrow(
            "SELECT state, query FROM pg_stat_activity WHERE pid = $1", pid
        )
    finally:
        await observer.close()
    assert row is not None
    return dict(row)


@pytest.mark.parametrize("pool_name", ["write", "read"])
async def test_a_release_sends_no_reset_query(
    app: FastAPI, client: httpx.AsyncClient, database_url: str, pool_name: str
) -> None:
    pool = _pools(app)[pool_name]
    connection = await pool.acquire()
    try:
        pid = await connection.fetchval("SELECT pg_backend_pid()")
        await connection.execute("SELECT 'last statement before release'")
    finally:
        await pool.release(connection)
    # asyncpg's default reset would be the backend's last statement now.
    activity = await _activity(database_url, pid)
    assert activity == {"state": "idle", "query": "SELECT 'last statement before release'"}


@pytest.mark.parametrize("pool_name", ["write", "read"])
async def test_a_transaction_left_open_is_still_rolled_back_at_release(
    app: FastAPI, client: httpx.AsyncClient, database_url: str, pool_name: str
) -> None:
    pool = _pools(app)[pool_name]
    connection = await pool.acquire()
    loop = asyncio.get_running_loop()
    handler = loop.get_exception_handler()
    # asyncpg reports the unmanaged transaction through the loop's exception handler.
    loop.set_exception_handler(lambda loop, context: None)
    try:
        pid = await connection.fetchval("SELECT pg_backend_pid()")
        await connection.execute("BEGIN")
        await connection.execute("CREATE TEMPORARY TABLE left_behind (x int) ON COMMIT DROP")
    finally:
        await pool.release(connection)
        loop.set_exception_handler(handler)
    assert (await _activity(database_url, pid))["state"] == "idle"


async def _traffic(client: httpx.AsyncClient) -> None:
    """One request of every kind, failures included, so each pool has served them all."""
    headers = await api_key()
    note = await create_note(client, headers, title="state", tags=["a", "b"])
    path = f"/v1/notes/{note['id']}"
    batch = {"notes": [{"title": f"n{i}", "tags": ["b", "c"]} for i in range(3)]}
    ndjson = json.dumps({"title": "imported", "body": "x", "tags": ["z"]}) + "\n"
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", path, {}),
        ("GET", path, {"headers": {"If-None-Match": f'"{note["id"]}:1"'}}),
        ("PATCH", path, {"json": {"tags": ["c"], "title": "changed"}}),
        ("PATCH", path, {"json": {"title": "x"}, "headers": {"If-Match": '"stale"'}}),
        ("POST", "/v1/notes/batch", {"json": batch}),
        ("POST", "/v1/notes", {"json": {"title": "k"}, "headers": {"Idempotency-Key": "k1"}}),
        ("POST", "/v1/import", {"content": ndjson}),
        ("GET", "/v1/notes", {"params": {"limit": 2}}),
        ("GET", "/v1/search", {"params": {"q": "state"}}),
        ("GET", "/v1/tags", {}),
        ("GET", "/v1/stats", {}),
        ("GET", "/v1/changes", {}),
        ("GET", "/v1/export", {"params": {"revisions": "true"}}),
        ("GET", f"{path}/revisions", {}),
        ("DELETE", path, {}),
        ("POST", f"{path}/restore", {}),
        ("DELETE", path, {"params": {"permanent": "true"}}),
        ("DELETE", "/v1/trash", {}),
        ("GET", "/readyz", {}),
    ]
    for method, url, options in requests:
        extra = options.pop("headers", {})
        response = await client.request(method, url, headers=headers | extra, **options)
        assert response.status_code < 500, (method, url, response.text)


async def test_no_connection_of_either_pool_keeps_session_state_after_traffic(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    await _traffic(client)
    for name, pool in _pools(app).items():
        # Hold every open connection at once, so each one is checked.
        held = [await pool.acquire() for _ in range(pool.stats().size)]
        try:
            for connection in held:
                assert not connection.is_in_transaction(), name
                state = await connection.fetchrow(LEFTOVERS)
                # The timeouts are set once per connection, on purpose (timeouts.py).
                expected = CLEAN | {"session_settings": sorted(session_settings(settings))}
                assert state is not None and dict(state) == expected, name
        finally:
            for connection in held:
                await pool.release(connection)
