"""Databases of the test server, and the sessions the tests open on them beside the app."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from notes_service.platform.listener import APPLICATION_NAME
from tests.support.factories import sql
from tests.support.servers import until


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def database_name(url: str) -> str:
    return urlsplit(url).path.strip("/")


async def admin(server_url: str, statement: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(server_url: str, prefix: str) -> AsyncIterator[str]:
    """A new, empty database on the test server, dropped on the way out."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        await admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_LISTENERS = "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = $2"


async def listener_pids(database_url: str) -> list[int]:
    """The backend pids of the app's LISTEN connections to this database."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(_LISTENERS, APPLICATION_NAME, database_name(database_url))
        return [row["pid"] for row in rows]
    finally:
        await conn.close()


async def kill_listeners(database_url: str) -> list[int]:
    """pg_terminate_backend on this database's listener connections; returns their pids."""
    pids = await listener_pids(database_url)
    conn = await asyncpg.connect(database_url)
    try:
        for pid in pids:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
        return pids
    finally:
        await conn.close()


# The write is the only session of the test database waiting on a lock (the other one sits idle
# in its transaction). Not matched on its text: `query` stops at track_activity_query_size.
WAITING_ON_A_LOCK = """
SELECT count(*) AS n FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


async def race_a_new_tag(
    database_url: str,
    owner_id: int,
    write: Callable[[], Coroutine[Any, Any, Any]],
    check: Callable[[Any], Awaitable[None]],
) -> None:
    """Another transaction creates tag `raced` and commits while our write waits on it, after
    our statement's snapshot was taken: the link must still be written."""
    other = await asyncpg.connect(database_url)
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.execute("INSERT INTO tags (owner_id, name) VALUES ($1, 'raced')", owner_id)
        pending = asyncio.create_task(write())

        async def waiting() -> bool:
            return bool((await sql(WAITING_ON_A_LOCK))[0]["n"])

        await until(waiting, 20, "the write to wait on the uncommitted tag")
        await transaction.commit()
        await check(await pending)
    finally:
        await other.close()
