"""Behind PgBouncer in transaction mode, with NOTES_DB_STATEMENT_CACHE_SIZE=0, both pools work.

Two ways: a real uvicorn through a private PgBouncer started here (skipped without the binary,
except in CI), and `.ci/run`, which runs the `pgbouncer`-marked subset of the whole suite through
the PgBouncer it starts on 127.0.0.1:6432 (NOTES_TEST_THROUGH_PGBOUNCER=1).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from notes_service.platform.settings import Settings
from tests.support.cli import run_cli
from tests.support.factories import api_key
from tests.support.pgbouncer import pgbouncer
from tests.support.servers import cli_key, require_binary, service

THROUGH_PGBOUNCER = os.environ.get("NOTES_TEST_THROUGH_PGBOUNCER") == "1"


async def _workload(client: httpx.AsyncClient, headers: dict[str, str], n: int) -> None:
    """Concurrent creates, transactional updates and deletes, gets and lists: many statements
    over few server connections, which is where prepared statements would break."""

    async def one(i: int) -> None:
        created = await client.post("/v1/notes", json={"title": f"note {i}"}, headers=headers)
        assert created.status_code == 201, created.text
        note_id = created.json()["id"]
        patched = await client.patch(
            f"/v1/notes/{note_id}", json={"body": f"body {i}"}, headers=headers
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["version"] == 2
        got = await client.get(f"/v1/notes/{note_id}", headers=headers)
        assert got.status_code == 200 and got.json()["body"] == f"body {i}"
        listed = await client.get("/v1/notes?limit=100", headers=headers)
        assert listed.status_code == 200, listed.text
        if i % 3 == 0:
            deleted = await client.delete(f"/v1/notes/{note_id}", headers=headers)
            assert deleted.status_code == 204

    for start in range(0, n, 10):
        await asyncio.gather(*(one(i) for i in range(start, min(start + 10, n))))
    final = await client.get("/v1/notes?limit=100", headers=headers)
    assert len(final.json()["items"]) == n - len(range(0, n, 3))


async def test_a_real_server_behind_pgbouncer_in_transaction_mode(
    database_url: str, tmp_path: Path
) -> None:
    no_cache = {"NOTES_DB_STATEMENT_CACHE_SIZE": "0"}
    with pgbouncer(database_url) as bouncer_url:
        migrated = run_cli("migrate", database_url=bouncer_url, **no_cache)
        assert migrated.returncode == 0, migrated.stderr
        headers = cli_key(bouncer_url, owner="bouncer", **no_cache)
        env = {"NOTES_DATABASE_URL": bouncer_url, **no_cache}
        with service(tmp_path / "service.log", env) as svc:
            svc.wait_ready()
            async with httpx.AsyncClient(base_url=svc.url, timeout=30) as client:
                await _workload(client, headers, 30)
            assert svc.terminate() == 0
        assert '"status": 500' not in svc.log()


@pytest.mark.pgbouncer
async def test_the_suite_runs_through_pgbouncer(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    if not THROUGH_PGBOUNCER:
        pytest.skip("the suite is not pointed at PgBouncer (.ci/run does that)")
    assert settings.db_statement_cache_size == 0
    url = settings.write_url
    conn = await asyncpg.connect(url, statement_cache_size=0)
    try:
        backend_port = await conn.fetchval("SELECT inet_server_port()")
    finally:
        await conn.close()
    # A proxy is in between: the client's port is not the server's.
    assert backend_port != urlsplit(url).port
    psql = require_binary("psql")
    parts = urlsplit(url)
    config = (
        await asyncio.to_thread(
            subprocess.run,
            [psql, "-h", str(parts.hostname), "-p", str(parts.port), "-U", "postgres",
             "pgbouncer", "-tAc", "SHOW CONFIG"],
            capture_output=True, text=True, timeout=30, check=True,
        )
    ).stdout  # fmt: skip
    assert "pool_mode|transaction|" in config
    await _workload(client, await api_key(owner="suite-bouncer"), 20)


@pytest.mark.pgbouncer
async def test_concurrent_reads_and_writes_on_both_pools(client: httpx.AsyncClient) -> None:
    await _workload(client, await api_key(owner="concurrent"), 20)
