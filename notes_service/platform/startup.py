"""Waiting for the database at start-up: retry with capped exponential backoff, then give up with
one line that says what was tried and why it failed."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from notes_service.platform import sql
from notes_service.platform.settings import Settings
from notes_service.platform.urls import where

logger = logging.getLogger(__name__)

_FIRST_DELAY = 0.25
_MAX_DELAY = 3.0


class DatabaseUnreachable(Exception):
    """The message is the one line an operator sees before the process exits."""


def describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def ping(url: str, seconds: float) -> None:
    conn = await asyncpg.connect(url, timeout=seconds, statement_cache_size=0)
    try:
        await conn.fetchval(sql.PING, timeout=seconds)
    finally:
        await conn.close(timeout=seconds)


async def wait_for_database(settings: Settings) -> None:
    """Return once every database the service uses answers; raise DatabaseUnreachable after
    `NOTES_DB_CONNECT_TIMEOUT` seconds of failures."""
    deadline = time.monotonic() + settings.db_connect_timeout
    for url in dict.fromkeys([settings.write_url, settings.read_url]):
        delay = _FIRST_DELAY
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            try:
                await ping(url, seconds=max(0.5, min(remaining, 5.0)))
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DatabaseUnreachable(
                        f"database {where(url)} not reachable after "
                        f"{settings.db_connect_timeout:g}s ({attempt} attempts; last error: "
                        f"{describe(exc)}); giving up"
                    ) from None
                logger.warning(
                    "database %s not reachable (%s); retrying in %.2fs",
                    where(url),
                    describe(exc),
                    min(delay, remaining),
                )
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, _MAX_DELAY)
                continue
            if attempt > 1:
                logger.info("database %s reachable after %d attempts", where(url), attempt)
            break
