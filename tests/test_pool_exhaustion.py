"""Every connection of a pool busy: the next request waits NOTES_DB_ACQUIRE_TIMEOUT, then gets a
503, never a hang. The connections are held honestly: a table lock taken by the test blocks the
queries of two real requests until the test lets go."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.metrics import gauge_is
from tests.support.servers import cli_key, service, until

ACQUIRE_TIMEOUT = 2.0
PROBLEM = "application/problem+json"


@pytest.mark.parametrize("pool", ["write", "read"])
async def test_a_request_past_the_acquire_timeout_gets_503_not_a_hang(
    database_url: str, tmp_path: Path, pool: str
) -> None:
    headers = cli_key(database_url, owner=f"exhaust-{pool}")
    env = {
        "NOTES_DATABASE_URL": database_url,
        "NOTES_DB_POOL_MIN": "1",
        "NOTES_DB_POOL_MAX": "2",
        "NOTES_READ_DB_POOL_MIN": "1",
        "NOTES_READ_DB_POOL_MAX": "2",
        "NOTES_DB_ACQUIRE_TIMEOUT": str(ACQUIRE_TIMEOUT),
    }
    with service(tmp_path / "service.log", env) as svc:
        svc.wait_ready()
        async with httpx.AsyncClient(base_url=svc.url, timeout=60) as client:
            created = await client.post("/v1/notes", json={"title": "locked"}, headers=headers)
            assert created.status_code == 201
            # GET /v1/notes/{id} reads notes through Tortoise (write pool); the list through
            # `databases` (read pool). Authentication reads api_keys, which stays unlocked.
            path = f"/v1/notes/{created.json()['id']}" if pool == "write" else "/v1/notes"

            locker = await asyncpg.connect(database_url)
            lock = locker.transaction()
            await lock.start()
            await locker.execute("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE")
            try:
                held = [asyncio.create_task(client.get(path, headers=headers)) for _ in range(2)]
                in_use = "db_pool_connections_in_use"
                await until(
                    lambda: gauge_is(client, in_use, 2, pool=pool), 20, "both connections busy"
                )

                third = asyncio.create_task(client.get(path, headers=headers))
                waiters = "db_pool_waiters"
                await until(
                    lambda: gauge_is(client, waiters, 1, pool=pool), ACQUIRE_TIMEOUT, "a waiter"
                )
                # Answered while the lock is still held and both connections still busy: it
                # gave up waiting for a connection rather than waiting for the lock.
                response = await third
                assert not any(task.done() for task in held)
                assert await gauge_is(client, waiters, 0, pool=pool)
                assert await gauge_is(client, in_use, 2, pool=pool)
            finally:
                await lock.rollback()
                await locker.close()
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == PROBLEM
            assert int(response.headers["retry-after"]) >= 1
            # The lock is gone: the two held requests finish normally.
            assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
            assert (await client.get(path, headers=headers)).status_code == 200
        assert svc.terminate() == 0
