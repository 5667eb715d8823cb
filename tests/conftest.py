"""Test wiring: a real PostgreSQL (NOTES_TEST_DATABASE_URL, or the embedded server), one fresh
database per run, migrated with the real CLI, and domain tables truncated before each test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from tortoise import connections

from notes_service.platform.embedded import EmbeddedPostgres
from notes_service.platform.settings import PROJECT_DIR, Settings
from notes_service.web.app import create_app
from tests.support.cli import run_cli
from tests.support.databases import database_name, scratch_database, with_database
from tests.support.faults import failing_trigger
from tests.support.servers import free_port
from tests.support.settings import AUTH_CACHE_TTL, WEBHOOK_RETRY_DELAYS
from tests.support.wal import bound_wal, check_wal

DOMAIN_TABLES = (
    "webhook_deliveries",
    "webhooks",
    "idempotency_keys",
    "feed",
    "tombstones",
    "revisions",
    "note_tags",
    "tags",
    "notes",
    "api_keys",
    "owners",
    "search_vocabulary",
)


@pytest.fixture(scope="session")
async def server_url() -> AsyncIterator[str]:
    url = os.environ.get("NOTES_TEST_DATABASE_URL")
    if url:
        yield url
        return
    server = EmbeddedPostgres(PROJECT_DIR / ".pgdata-test", free_port())
    # A lease: two runs in one worktree share the server, and the last one stops it.
    with server.lease():
        await bound_wal(server.url)
        yield server.url
        await check_wal(server.url)


@pytest.fixture(scope="session")
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty database on the test server; dropped at the end of the run."""
    async with scratch_database(server_url, "notes_test") as url:
        yield url


@pytest.fixture
async def empty_database(server_url: str) -> AsyncIterator[str]:
    """A database with no schema at all, for the tests that migrate or check one; dropped after
    the test."""
    async with scratch_database(server_url, "notes_empty") as url:
        yield url


@pytest.fixture
async def unrelated_transaction(server_url: str) -> AsyncIterator[None]:
    """A write transaction held open in another database of the same server for the whole test,
    as a batch job or `pg_dump` elsewhere would: the change feed must not wait for it."""
    conn = await asyncpg.connect(server_url)
    try:
        async with conn.transaction():
            await conn.fetchval("SELECT pg_current_xact_id()")  # takes a transaction id
            yield
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(fresh_database: str) -> str:
    result = run_cli("migrate", database_url=fresh_database)
    assert result.returncode == 0, result.stderr
    return fresh_database


def listen_url(database_url: str) -> str | None:
    """Through PgBouncer in transaction mode (.ci/run) LISTEN needs PostgreSQL itself."""
    server = os.environ.get("NOTES_TEST_LISTEN_SERVER_URL")
    return with_database(server, database_name(database_url)) if server else None


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        env="test",
        cursor_secret="test-cursor-secret-not-for-production",
        database_url=database_url,
        listen_database_url=listen_url(database_url),
        db_pool_max=5,
        auth_cache_ttl=AUTH_CACHE_TTL,
        read_db_pool_max=5,
        # Webhook tests run their own workers (or a `serve` of their own), and their receivers
        # listen on 127.0.0.1.
        webhook_deliveries_in_serve=False,
        webhook_allow_private_targets=True,
        webhook_retry_delays=WEBHOOK_RETRY_DELAYS,
        webhook_poll_interval=0.05,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with LifespanManager(app):
        yield app


@pytest.fixture(scope="session")
async def _session_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notes.test") as client:
        yield client


@pytest.fixture
async def client(_session_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The app's client, over freshly truncated domain tables."""
    tables = ", ".join(DOMAIN_TABLES)
    await connections.get("default").execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return _session_client


@pytest.fixture
async def revision_fault(client: httpx.AsyncClient) -> AsyncIterator[None]:
    """A test-only trigger that makes the revision insert of any note titled "kaboom" fail,
    halfway through the write transaction (after the note and tag writes)."""
    async with failing_trigger(
        "test_revision_fault",
        "BEFORE INSERT ON revisions",
        "NEW.title = 'kaboom'",
        "injected fault: password=hunter2",
    ):
        yield


# Modules that .ci/run also runs through PgBouncer (`-m pgbouncer`): CRUD, transactions, lists
# and auth. Add a module here to put it in that run.
PGBOUNCER_SUBSET = {
    "test_notes.py",
    "test_auth.py",
    "test_list.py",
    "test_search.py",
    "test_rollback.py",
    "test_pgbouncer.py",
    "test_changes.py",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in PGBOUNCER_SUBSET and item.get_closest_marker("pgbouncer") is None:
            item.add_marker(pytest.mark.pgbouncer)
