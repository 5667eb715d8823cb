"""The change feed's clock: hands positions to committed changes (migration feed_clock).

A write leaves its changes pending in `feed`; `feed_sequence(viewer)` gives all of a viewer's
committed pending changes the viewer's next tick, in a transaction of its own that holds the
viewer's clock row until it is visible. So a viewer's positions follow the order in which its
changes became visible, whatever else runs on the server, and writers never wait for each other.

Every worker sequences all pending viewers every NOTES_FEED_SEQUENCE_INTERVAL seconds (any number
of workers and replicas may: they skip each other's rows), and a feed read sequences its own
viewer first, so a client reads its own writes. Both go to the primary (the write pool).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from tortoise import connections

from notes_service.platform import sql

logger = logging.getLogger(__name__)


async def sequence(viewer_id: int) -> int:
    """Position the viewer's committed pending changes now; how many got one."""
    _, rows = await connections.get("default").execute_query(sql.FEED_SEQUENCE, [viewer_id])
    return int(rows[0]["sequenced"])


async def sequence_pending() -> int:
    _, rows = await connections.get("default").execute_query(sql.FEED_PENDING_VIEWERS)
    return sum([await sequence(row["viewer_id"]) for row in rows])


class FeedClock:
    def __init__(self, interval: float) -> None:
        self.interval = interval
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

    async def _run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.interval)
            try:
                await sequence_pending()
            except Exception:
                if not failing:  # once per outage, not every interval
                    logger.warning("feed clock: sequencing failed; retrying", exc_info=True)
                failing = True
            else:
                failing = False
