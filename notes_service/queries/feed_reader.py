"""The worker's reads of its owners' change feeds, shared by the change streams.

A commit wakes every stream of its owner at once. Each reading the feed by itself would cost one
tenant's thousand streams a thousand reads per commit (and slow every other tenant), so streams
of one owner that stand at the same position share one read: its events are encoded once (the
same bytes go to every stream), and the cost of a wake-up is one read per position, whatever the
number of streams. A stream joins a read only if that read started after the last notification
the stream has heard (the listener's `generation`), so sharing never hides a commit from it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from notes_service import cursors as positions
from notes_service.contract import NoteOut
from notes_service.cursors import CursorCodec, FeedPosition
from notes_service.queries.changes import Change
from notes_service.queries.repository import NoteQueries

PAGE = 100  # changes per read at most; fewer when the owner's changes are large (see _limit)
FIRST_PAGE = 10  # before the size of an owner's events is known
_REMEMBERED_OWNERS = 10_000


# Each event tells an EventSource how long to wait before it reconnects (SPEC §8).
RECONNECT_MS = 2000


def sse_event(event_id: str, event: str, data: str) -> bytes:
    return f"id: {event_id}\nevent: {event}\nretry: {RECONNECT_MS}\ndata: {data}\n\n".encode()


def change_entry(row: Any) -> Change:
    """The same entry `GET /v1/changes` returns for a feed row."""
    return Change(
        id=row["change_id"],
        version=row["change_version"],
        op=row["op"],
        note=None if row["gone"] else NoteOut.model_validate(dict(row)),
    )


def row_position(row: Any) -> FeedPosition:
    """The feed position just after a row of `sql.CHANGES`."""
    return row["tick"], row["seq"]


@dataclass(frozen=True, slots=True)
class FeedEvent:
    position: FeedPosition
    id: str  # the cursor after this change, as the event's id
    data: bytes  # the whole SSE event


@dataclass(frozen=True, slots=True)
class FeedRead:
    events: list[FeedEvent]
    more: bool  # a full page: read again from the last event at once


class FeedReader:
    def __init__(
        self, queries: NoteQueries, codec: CursorCodec, buffer_bytes: int, reads: Counter
    ) -> None:
        self.queries = queries
        self.codec = codec
        self.buffer_bytes = buffer_bytes
        self.reads = reads  # statements run (sse_feed_reads_total)
        self._inflight: dict[tuple[int, FeedPosition], tuple[int, asyncio.Task[FeedRead]]] = {}
        self._event_bytes: dict[int, int] = {}  # per owner: the largest event of its last read

    async def read(self, owner_id: int, position: FeedPosition, generation: int) -> FeedRead:
        """The owner's changes after `position`, from a read that began at or after
        notification `generation` (one already under way, or a new one)."""
        key = (owner_id, position)
        entry = self._inflight.get(key)
        if entry is None or entry[0] < generation:
            task = asyncio.create_task(self._read(owner_id, position))
            entry = (generation, task)
            self._inflight[key] = entry
            task.add_done_callback(lambda done: self._finished(key, entry))
        # Shielded: one stream closing must not cancel the read its neighbours wait for.
        return await asyncio.shield(entry[1])

    def _finished(self, key: tuple[int, FeedPosition], entry: tuple[int, Any]) -> None:
        if self._inflight.get(key) is entry:
            del self._inflight[key]
        task = entry[1]
        if not task.cancelled():
            task.exception()  # retrieved here, raised in each waiter: never "never retrieved"

    def _limit(self, owner_id: int) -> int:
        """Rows per read: as many of this owner's largest recent events as fit the buffer (a
        first read takes a few), so a read of 100,000-character bodies never holds many rows."""
        largest = self._event_bytes.get(owner_id)
        if largest is None:
            return FIRST_PAGE
        return max(1, min(PAGE, self.buffer_bytes // max(largest, 1)))

    async def _read(self, owner_id: int, position: FeedPosition) -> FeedRead:
        limit = self._limit(owner_id)
        self.reads.inc()
        rows = await self.queries.changes(owner_id, position, limit + 1)
        binding = positions.feed_binding(self.codec, owner_id)
        events: list[FeedEvent] = []
        size = 0
        more = len(rows) > limit
        for row in rows[:limit]:
            if size >= self.buffer_bytes:
                # A read holds no more than a stream may queue: the rest is read again later.
                more = True
                break
            after = row_position(row)
            event_id = positions.encode_feed(self.codec, binding, after)
            data = sse_event(event_id, "change", change_entry(row).model_dump_json())
            events.append(FeedEvent(after, event_id, data))
            size += len(data)
        del rows  # the rows' text is not kept while streams take the events
        if events:
            if len(self._event_bytes) >= _REMEMBERED_OWNERS:
                self._event_bytes.clear()
            self._event_bytes[owner_id] = max(len(e.data) for e in events)
        return FeedRead(events, more)
