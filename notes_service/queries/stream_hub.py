"""The worker's change streams as a whole: how many are open (per worker and per key), the
reads they share, the revocations they must hear while the listener is down, and the shutdown
that ends them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import uuid
from collections.abc import Callable
from types import FrameType

from prometheus_client import Counter, Gauge

from notes_service.accounts import auth
from notes_service.cursors import CursorCodec
from notes_service.errors import ServiceUnavailable, TooManyRequests
from notes_service.platform.feed_clock import FeedClock
from notes_service.platform.listener import Listener
from notes_service.platform.settings import Settings
from notes_service.queries.feed_reader import FeedReader
from notes_service.queries.repository import NoteQueries

logger = logging.getLogger(__name__)

# While the listener is down, the open streams' keys are checked (one statement for them all)
# this often, so that a revocation still ends a stream within a second.
KEY_CHECK_INTERVAL = 0.5
STREAM_RETRY_AFTER = 5  # seconds, in the 503 and 429 that refuse a stream


class TooManyStreams(TooManyRequests):
    slug, title = "too-many-streams", "Too many open change streams for this key"


class StreamHub:
    """The worker's streams: their number, and the shutdown that ends them all."""

    def __init__(
        self,
        settings: Settings,
        listener: Listener,
        clock: FeedClock,
        gauge: Gauge,
        queries: NoteQueries,
        codec: CursorCodec,
        buffered_bytes: Gauge,
        feed_reads: Counter,
    ) -> None:
        self.settings = settings
        self.listener = listener
        self.clock = clock
        self.gauge = gauge
        self.buffered_bytes = buffered_bytes
        self.open = 0
        self.per_key: dict[uuid.UUID, int] = {}
        self.closing = asyncio.Event()
        self.feed = FeedReader(queries, codec, settings.stream_buffer_bytes, feed_reads)
        self._key_check: asyncio.Task[None] | None = None

    def reserve(self, key_id: uuid.UUID) -> None:
        if self.closing.is_set():
            raise ServiceUnavailable("The server is shutting down; reconnect", retry_after=1)
        if self.open >= self.settings.stream_max:
            raise ServiceUnavailable(
                "Too many open change streams on this worker", retry_after=STREAM_RETRY_AFTER
            )
        held = self.per_key.get(key_id, 0)
        if held >= self.settings.stream_max_per_key:
            raise TooManyStreams(
                f"This key already has {held} open change streams, the most one key may hold "
                "(NOTES_STREAM_MAX_PER_KEY); close one, or retry later",
                retry_after=STREAM_RETRY_AFTER,
            )
        self.per_key[key_id] = held + 1
        self.open += 1
        self.gauge.set(self.open)

    def release(self, key_id: uuid.UUID) -> None:
        held = self.per_key.pop(key_id, 0) - 1
        if held > 0:
            self.per_key[key_id] = held
        self.open -= 1
        self.gauge.set(self.open)

    def start(self) -> None:
        self._key_check = asyncio.create_task(self._check_keys(), name="notes-stream-keys")

    async def stop(self) -> None:
        if self._key_check is not None:
            self._key_check.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._key_check

    async def _check_keys(self) -> None:
        """Revocations reach streams through the listener. While it is down, and once after it
        reconnects (what happened in between was not heard), the open streams' keys are looked
        up here, one statement for all of them, and the revoked ones' streams are closed."""
        connects = self.listener.connects
        while True:
            await asyncio.sleep(KEY_CHECK_INTERVAL)
            missed = self.listener.connects != connects
            connects = self.listener.connects
            if self.listener.up and not missed:
                continue
            keys = self.listener.key_ids()
            if not keys:
                continue
            try:
                valid = await auth.valid_key_ids(keys)
            except Exception as exc:  # the database is down too: the streams' reads fail
                logger.warning("change streams: cannot check keys (%s)", type(exc).__name__)
                continue
            for key_id in keys - valid:
                self.listener.revoke(key_id)

    def shut_down(self) -> None:
        self.closing.set()
        self.listener.wake_all(recheck_key=False)

    def follow_shutdown_signals(self) -> Callable[[], None]:
        """uvicorn waits for open responses before the lifespan hears of a shutdown, and an
        endless stream never ends by itself: chain uvicorn's SIGTERM/SIGINT handler so that
        the streams end (and the graceful shutdown completes) at once. Returns the undo."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        loop = asyncio.get_running_loop()
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

        def handler(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(self.shut_down)
            chained = previous[signal.Signals(signum)]
            if callable(chained):
                chained(signum, frame)

        for sig, chained in previous.items():
            if callable(chained):  # a server's handler; never replace a default action
                signal.signal(sig, handler)

        def undo() -> None:
            for sig, chained in previous.items():
                if callable(chained) and signal.getsignal(sig) is handler:
                    signal.signal(sig, chained)

        return undo
