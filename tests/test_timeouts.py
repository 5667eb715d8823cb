"""Server-side timeouts (NOTES_DB_*_TIMEOUT) on both pools: a request cut short by one gets a
503 `database-timeout` problem, never a 500, and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from notes_service.platform.pools import keep_session
from notes_service.platform.settings import Settings
from notes_service.platform.timeouts import pool_options
from tests.support.servers import Service, cli_key, service

PROBLEM = "application/problem+json"
SLOW_TITLE = "slow-statement-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def strict_service(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    env = {
        "NOTES_DATABASE_URL": database_url,
        "NOTES_DB_STATEMENT_TIMEOUT": "0.5",
        "NOTES_DB_LOCK_TIMEOUT": "0.3",
    }
    with service(tmp_path_factory.mktemp("timeouts") / "service.log", env) as svc:
        svc.wait_ready()
        yield svc
        assert svc.terminate() == 0


@pytest.fixture(scope="module")
def headers(database_url: str) -> dict[str, str]:
    return cli_key(database_url, owner=f"timeouts-{uuid.uuid4().hex[:8]}")


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


def _assert_timeout_problem(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["type"] == "urn:notes-service:problem:database-timeout"


async def test_a_statement_over_the_statement_timeout_is_a_503_and_writes_nothing(
    strict_service: Service, headers: dict[str, str], admin: asyncpg.Connection
) -> None:
    # A test-only trigger makes the insert of one title take 3 s, far over the 0.5 s limit.
    await admin.execute(
        f"""
        CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
        CREATE TRIGGER test_slow_insert BEFORE INSERT ON notes FOR EACH ROW
        WHEN (NEW.title = '{SLOW_TITLE}') EXECUTE FUNCTION test_slow_insert();
        """
    )
    try:
        async with httpx.AsyncClient(base_url=strict_service.url, headers=headers) as client:
            _assert_timeout_problem(await client.post("/v1/notes", json={"title": SLOW_TITLE}))
            assert (await client.post("/v1/notes", json={"title": "quick"})).status_code == 201
    finally:
        await admin.execute(
            "DROP TRIGGER IF EXISTS test_slow_insert ON notes;"
            "DROP FUNCTION IF EXISTS test_slow_insert();"
        )
    assert await admin.fetchval("SELECT count(*) FROM notes WHERE title = $1", SLOW_TITLE) == 0


async def test_a_write_waiting_on_a_row_lock_gets_a_503_after_the_lock_timeout(
    strict_service: Service, headers: dict[str, str], admin: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=strict_service.url, headers=headers) as client:
        note = (await client.post("/v1/notes", json={"title": "locked"})).json()
        async with admin.transaction():
            await admin.execute(
                "SELECT 1 FROM notes WHERE id = $1 FOR UPDATE", uuid.UUID(note["id"])
            )
            response = await client.patch(f"/v1/notes/{note['id']}", json={"title": "changed"})
        _assert_timeout_problem(response)
        after = (await client.get(f"/v1/notes/{note['id']}")).json()
    assert after["title"] == "locked" and after["version"] == 1


async def test_a_read_waiting_on_a_table_lock_gets_a_503_after_the_lock_timeout(
    strict_service: Service, headers: dict[str, str], admin: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=strict_service.url, headers=headers) as client:
        async with admin.transaction():
            await admin.execute("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE")
            response = await client.get("/v1/notes")
        _assert_timeout_problem(response)
        assert (await client.get("/v1/notes")).status_code == 200


async def test_the_timeouts_last_as_long_as_the_pooled_connection(
    database_url: str,
) -> None:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        db_statement_timeout=7,
        db_lock_timeout=2.5,
        db_idle_in_transaction_timeout=0,
    )
    # As the service's pools are built: set once at connect, no reset query on release.
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=1, reset=keep_session, **pool_options(settings)
    )
    try:
        for _ in range(2):  # the second acquire gets the same connection, after its release
            async with pool.acquire() as connection:
                assert await connection.fetchval("SHOW statement_timeout") == "7s"
                assert await connection.fetchval("SHOW lock_timeout") == "2500ms"
                # 0 leaves the server's own value
                assert await connection.fetchval("SHOW idle_in_transaction_session_timeout") == "0"
    finally:
        await pool.close()


def test_long_jobs_run_without_the_statement_timeout() -> None:
    settings = Settings(_env_file=None, db_statement_timeout=15, db_lock_timeout=5)
    long = settings.for_long_jobs()
    assert long.db_statement_timeout == 0 and long.db_lock_timeout == 5
