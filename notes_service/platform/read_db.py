"""The one module that knows about the `databases` library (archived upstream): swapping it for
plain asyncpg means changing only this file.

`databases` owns the read pool and its lifespan. The hot statements skip its SQLAlchemy
compilation, row wrapping and per-task connection bookkeeping: they run on a connection taken
straight from its asyncpg pool, with `$n` binds, as prepared statements from asyncpg's
statement cache. (The read side runs no transactions, so no statement needs the connection
`databases` would have tied to the task.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import databases

from notes_service.platform.pools import BoundedPool, PoolStats, keep_session, stats_of
from notes_service.platform.settings import Settings
from notes_service.platform.timeouts import pool_options

Row = Mapping[str, Any]


class ReadDatabase:
    def __init__(self, settings: Settings) -> None:
        self._acquire_timeout = settings.db_acquire_timeout
        self._statement_cache = settings.db_statement_cache_size > 0
        self._db = databases.Database(
            settings.read_url,
            min_size=settings.read_db_pool_min,
            max_size=settings.read_db_pool_max,
            statement_cache_size=settings.db_statement_cache_size,
            timeout=settings.db_acquire_timeout,
            server_settings={"application_name": "notes-service-read"},
            reset=keep_session,  # no reset query on release: see pools.py
            **pool_options(settings),
        )

    _pool: BoundedPool

    async def connect(self) -> None:
        await self._db.connect()
        # `databases` acquires with no timeout; bound it like the write pool (see pools.py). It
        # has no public hook for that (0.9: the backend calls asyncpg.create_pool itself, and
        # Database takes no pool or acquire timeout), so its private pool attribute is wrapped.
        backend = self._db._backend
        backend._pool = self._pool = BoundedPool(backend._pool, self._acquire_timeout)

    def pool_stats(self) -> PoolStats | None:
        return stats_of(getattr(self._db._backend, "_pool", None))

    async def disconnect(self) -> None:
        await self._db.disconnect()

    async def fetchrow(self, sql: str, args: Sequence[Any]) -> Row:
        """The one row of a prepared statement (after five runs PostgreSQL may switch it to a
        generic plan: the statements are shaped for that, see `tests/test_plans.py`)."""
        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(sql, *args)
        if row is None:
            raise RuntimeError("the read side's JSON statements always return one row")
        return cast(Row, row)

    async def fetchrow_planned(self, sql: str, args: Sequence[Any]) -> Row:
        """Like `fetchrow`, but planned for these values on every execution (never a generic
        plan), for a statement whose best plan depends on them. A statement prepared for one
        run gets a custom plan; without a statement cache (PgBouncer) every statement does."""
        async with self._pool.acquire() as connection:
            if self._statement_cache:
                row = await (await connection.prepare(sql)).fetchrow(*args)
            else:
                row = await connection.fetchrow(sql, *args)
        if row is None:
            raise RuntimeError("the read side's JSON statements always return one row")
        return cast(Row, row)

    async def fetch_all(self, sql: str, values: Mapping[str, Any]) -> list[Row]:
        rows = await self._db.fetch_all(sql, dict(values))
        return [row._mapping for row in rows]

    async def fetch_one(self, sql: str, values: Mapping[str, Any]) -> Row | None:
        row = await self._db.fetch_one(sql, dict(values))
        return None if row is None else row._mapping
