"""Server-side timeouts for every pooled connection: `statement_timeout`, `lock_timeout` and
`idle_in_transaction_session_timeout`, from the `NOTES_DB_*_TIMEOUT` settings.

They are applied with `SET` when a connection opens (asyncpg's pool `init`), and last as long as
the connection: the pools run no `RESET ALL` on release (pools.py). Not as startup parameters
(`server_settings`): PgBouncer refuses a startup parameter it does not know unless told to ignore
it, and then it is silently dropped. `SET` costs nothing per request (one round trip per new
connection), and passes through any pooler. Behind PgBouncer in transaction mode a session `SET`
stays with the server connection that ran it, not with this client: there, set the timeouts to 0
here and on the database role instead (docs/operations.md, "Timeouts").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from notes_service.platform.settings import Settings

Init = Callable[[asyncpg.Connection], Awaitable[None]]


def session_settings(settings: Settings) -> dict[str, int]:
    """The timeouts that are on, in milliseconds (0 leaves the server's own value)."""
    values = {
        "statement_timeout": settings.db_statement_timeout,
        "lock_timeout": settings.db_lock_timeout,
        "idle_in_transaction_session_timeout": settings.db_idle_in_transaction_timeout,
    }
    return {name: round(seconds * 1000) for name, seconds in values.items() if seconds}


def session_sql(settings: Settings) -> str:
    return "".join(f"SET {name} = {ms};" for name, ms in session_settings(settings).items())


def pool_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `asyncpg.create_pool` (through Tortoise or `databases`)."""
    sql = session_sql(settings)
    if not sql:
        return {}

    async def init(connection: asyncpg.Connection) -> None:
        await connection.execute(sql)

    return {"init": init}
