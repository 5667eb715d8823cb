"""The change feed's clock: hands positions to committed changes (migration feed_clock).

A write leaves its changes pending in `feed`; `feed_sequence(viewer)` gives all of a viewer's
committed pending changes the viewer's next tick, in a transaction of its own that holds the
viewer's clock row until it is visible. So a viewer's positions follow the order in which its
changes became visible, whatever else runs on the server, and writers never wait for each other.

Every worker sequences all pending viewers every NOTES_FEED_SEQUENCE_INTERVAL seconds (any
number of workers and replicas may: one positioning per viewer runs at a time), on its
listener's session connection (the write pool while that is down), so the rounds never wait for
a pool connection behind requests; and a feed read sequences its own viewer first (on the write
pool), so a client reads its own writes. All of it runs on the primary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import connections

from notes_service.platform import sql

logger = logging.getLogger(__name__)


Fetch = Callable[..., Awaitable[list[Any]]]


async def _pool_fetch(query: str, *args: object) -> list[Any]:
    _, rows = await connections.get("default").execute_query(query, list(args))
    return list(rows)


async def sequence(viewer_id: int, fetch: Fetch = _pool_fetch) -> int:
    """Position the viewer's committed pending changes now; how many got one."""
    rows = await fetch(sql.FEED_SEQUENCE, viewer_id)
    return int(rows[0]["sequenced"])


async def sequence_pending(fetch: Fetch = _pool_fetch) -> int:
    viewers = await fetch(sql.FEED_PENDING_VIEWERS)
    return sum([await sequence(row["viewer_id"], fetch) for row in viewers])


class FeedClock:
    def __init__(self, interval: float, session: Fetch) -> None:
        self.interval = interval
        self.session = session  # the listener's connection: Listener.fetch
        self._task: asyncio.Task[None] | None = None

    async def settle(self, viewer_id: int) -> None:
        """Before a feed read: the viewer's own committed changes get their positions. A primary
        that cannot be reached only delays them (the read may still work on a replica)."""
        try:
            await sequence(viewer_id)
        except Exception:
            logger.debug("feed clock: could not sequence viewer %s", viewer_id, exc_info=True)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="feed-clock")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _round(self) -> None:
        try:
            await sequence_pending(self.session)
        except ConnectionError:
            await sequence_pending()

    async def _run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._round()
            except Exception:
                if not failing:  # once per outage, not every interval
                    logger.warning("feed clock: sequencing failed; retrying", exc_info=True)
                failing = True
            else:
                failing = False
