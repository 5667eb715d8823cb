"""Bounded connection acquisition for both pools, and the numbers `/metrics` reports about them.

Neither Tortoise nor `databases` passes a timeout to `asyncpg.Pool.acquire()`, so with every
connection busy a request would wait forever. `BoundedPool` wraps an asyncpg pool and applies
`NOTES_DB_ACQUIRE_TIMEOUT` to every acquire; the resulting `TimeoutError` becomes a 503.

This module is also a Tortoise engine (`"engine": "notes_service.platform.pools"`): Tortoise
imports it and builds `client_class`.

Both pools release connections with `keep_session` instead of asyncpg's default reset. By
default every release runs `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`,
one more round trip per request (28% of a one-row GET). It only undoes session state, and this
service leaves none on a pooled connection:
- every statement runs in autocommit or in a managed transaction (Tortoise's `in_transaction()`,
  `databases`' `transaction()`), and asyncpg itself still rolls back a transaction left open
  at release (`Connection._reset()` runs before the pool's `reset` callable);
- cursors (the export) are declared inside such a transaction, so they close with it;
- the only session settings are the timeouts (timeouts.py), set once when a connection opens
  and meant to last as long as it; code never runs `SET` without `LOCAL` (or
  `set_config(..., true)`);
- no `LISTEN` and no session-level advisory lock on a pooled connection (a listener needs a
  connection of its own: PgBouncer's transaction mode could not keep one either).
tests/test_pool_reset.py checks each of these on the connections of both pools after real
requests, and that a release sends nothing to the server.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from tortoise.backends.asyncpg.client import AsyncpgDBClient

logger = logging.getLogger(__name__)

# What a failed release of a connection the server has ended can raise (the reset query fails).
_BROKEN_CONNECTION_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pools' `reset`: nothing to undo (see the module docstring), so no round trip."""


@dataclass(frozen=True, slots=True)
class PoolStats:
    size: int  # open connections
    in_use: int  # connections handed out
    waiters: int  # acquires waiting for a connection (or for a new one to open)
    max_size: int


class BoundedPool:
    """An asyncpg pool whose `acquire()` gives up after `acquire_timeout` seconds."""

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self._pool = pool
        self.acquire_timeout = acquire_timeout
        self.waiters = 0

    def acquire(self, *, timeout: float | None = None) -> _Acquire:
        return _Acquire(self, self.acquire_timeout if timeout is None else timeout)

    async def _acquire(self, seconds: float) -> PoolConnectionProxy[Any]:
        self.waiters += 1
        try:
            return await self._pool.acquire(timeout=seconds)
        finally:
            self.waiters -= 1

    async def release(self, connection: PoolConnectionProxy[Any]) -> None:
        """Return a connection; one the server has ended is dropped quietly.

        When PostgreSQL shuts down it sends every backend a FATAL `admin_shutdown` before closing
        the socket. On a connection that is idle but checked out, asyncpg reads that message as
        a protocol error and parks the connection in an error state until the EOF is processed;
        the reset query that release() runs then fails ("cannot switch to state 15; another
        operation (2) is in progress"), and asyncpg terminates the connection. Raising that
        here would turn a request whose work already committed (or rolled back) into a 500,
        and would skip Tortoise's reset of its transaction context, which runs after release.
        """
        try:
            await self._pool.release(connection)
        except _BROKEN_CONNECTION_ERRORS as exc:
            # asyncpg has terminated it: the next acquire opens a fresh connection.
            logger.warning("dropped a broken connection on release: %s", type(exc).__name__)

    def stats(self) -> PoolStats:
        size = self._pool.get_size()
        return PoolStats(
            size=size,
            in_use=size - self._pool.get_idle_size(),
            waiters=self.waiters,
            max_size=self._pool.get_max_size(),
        )

    def __getattr__(self, name: str) -> Any:
        # close(), terminate(), expire_connections(), ...: the pool's own.
        return getattr(self._pool, name)


class _Acquire:
    """Like asyncpg's `PoolAcquireContext`: awaitable, or an async context manager."""

    __slots__ = ("_connection", "_pool", "_timeout")

    def __init__(self, pool: BoundedPool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._connection: PoolConnectionProxy[Any] | None = None

    def __await__(self) -> Generator[Any, None, PoolConnectionProxy[Any]]:
        return self._pool._acquire(self._timeout).__await__()

    async def __aenter__(self) -> PoolConnectionProxy[Any]:
        self._connection = await self._pool._acquire(self._timeout)
        return self._connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._pool.release(connection)


def stats_of(pool: object) -> PoolStats | None:
    return pool.stats() if isinstance(pool, BoundedPool) else None


class BoundedAsyncpgClient(AsyncpgDBClient):
    """Tortoise's asyncpg client, with a bounded acquire; `acquire_timeout` comes from the
    connection credentials in `db.tortoise_config()`."""

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    async def create_pool(self, **kwargs: Any) -> Any:
        pool = await asyncpg.create_pool(None, reset=keep_session, **kwargs)
        return BoundedPool(pool, self.acquire_timeout)

    def pool_stats(self) -> PoolStats | None:
        return stats_of(self._pool)


client_class = BoundedAsyncpgClient
