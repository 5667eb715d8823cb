"""A change stream's outgoing events, bounded in bytes (NOTES_STREAM_BUFFER_BYTES).

An event can be ~600 kB (a 100,000-character body of control characters, escaped in JSON), so a
count of events bounds nothing. An event counts from the moment it is queued until `send` has
taken it (uvicorn's transport then holds at most its high-water mark more). One event larger
than the whole buffer still goes, alone, so that a small setting never stalls a stream.
"""

from __future__ import annotations

import asyncio
from collections import deque

from prometheus_client import Gauge


class ReaderTooSlow(Exception):
    """The reader did not make room in the buffer in time."""


class StreamBuffer:
    def __init__(self, limit: int, gauge: Gauge) -> None:
        self.limit = limit
        self.size = 0  # bytes queued or being sent
        self._gauge = gauge  # the worker's total, for /metrics
        self._items: deque[bytes | None] = deque()
        self._ready = asyncio.Event()
        self._space = asyncio.Event()

    def _fits(self, event: bytes) -> bool:
        return self.size == 0 or self.size + len(event) <= self.limit

    async def put(self, event: bytes, within: float) -> None:
        """Queue an event once there is room; ReaderTooSlow if there is none within `within`."""
        if not self._fits(event):
            try:
                async with asyncio.timeout(within):
                    while not self._fits(event):
                        self._space.clear()
                        await self._space.wait()
            except TimeoutError:
                raise ReaderTooSlow() from None
        self.put_nowait(event)

    def put_nowait(self, event: bytes) -> None:
        """Queue regardless of the bound: only for the last, small event of a stream."""
        self._items.append(event)
        self.size += len(event)
        self._gauge.inc(len(event))
        self._ready.set()

    def end(self) -> None:
        """No more events: `get` answers None once the queued ones are taken."""
        self._items.append(None)
        self._ready.set()

    async def get(self) -> bytes | None:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def sent(self, event: bytes) -> None:
        self.size -= len(event)
        self._gauge.dec(len(event))
        self._space.set()

    def discard(self) -> None:
        """Drop everything not yet sent (a revoked key gets nothing more)."""
        dropped = sum(len(item) for item in self._items if item is not None)
        self._items.clear()
        self.size -= dropped
        self._gauge.dec(dropped)

    def release(self) -> None:
        """The stream is over: whatever it still counted leaves the worker's total."""
        self.discard()
        self._gauge.dec(self.size)
        self.size = 0
