"""The worker's change streams as a whole: how many are open, and the shutdown that ends them."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType

from prometheus_client import Gauge

from notes_service.errors import ServiceUnavailable
from notes_service.platform.listener import Listener
from notes_service.platform.settings import Settings


class StreamHub:
    """The worker's streams: their number, and the shutdown that ends them all."""

    def __init__(self, settings: Settings, listener: Listener, gauge: Gauge) -> None:
        self.settings = settings
        self.listener = listener
        self.gauge = gauge
        self.open = 0
        self.closing = asyncio.Event()

    def reserve(self) -> None:
        if self.closing.is_set():
            raise ServiceUnavailable("The server is shutting down; reconnect", retry_after=1)
        if self.open >= self.settings.stream_max:
            raise ServiceUnavailable("Too many open change streams on this worker", retry_after=5)
        self.open += 1
        self.gauge.set(self.open)

    def release(self) -> None:
        self.open -= 1
        self.gauge.set(self.open)

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
