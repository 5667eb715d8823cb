"""`GET /v1/changes/stream`: the change feed pushed as Server-Sent Events.

A stream reads exactly what `GET /v1/changes` would (the same statement) and sends each change as
an event whose id is the feed cursor after it. Between reads it holds no database connection: it
sleeps until the worker's listener (notes_service.platform.listener) hears its owner's changes
being positioned in the feed (platform/feed_clock.py), or, while the listener is down, until a
slow poll. Nothing else on the server can hold a committed change back. The owner's streams
share their reads (feed_reader.py): a wake-up costs one read, not one per stream.

Bounded: at most NOTES_STREAM_MAX streams per worker and NOTES_STREAM_MAX_PER_KEY per key; at
most NOTES_STREAM_BUFFER_BYTES of events waiting for a reader, who is cut off (with a final
`resume` event) when no room comes within NOTES_STREAM_SEND_TIMEOUT; a heartbeat comment every
NOTES_STREAM_HEARTBEAT. A revoked key's stream ends between two events, its queued events
dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from notes_service import cursors as positions
from notes_service.accounts import auth
from notes_service.accounts.auth import Principal
from notes_service.cursors import CursorCodec, FeedPosition
from notes_service.platform.listener import Subscription
from notes_service.queries.feed_reader import sse_event
from notes_service.queries.router import Cursor
from notes_service.queries.stream_buffer import ReaderTooSlow, StreamBuffer
from notes_service.queries.stream_hub import StreamHub
from notes_service.web.deps import Cursors, StreamAuth

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["queries"])

EVENT_STREAM = "text/event-stream"
HEARTBEAT = b": heartbeat\n\n"
_RETRY_FIRST, _RETRY_MAX = 0.05, 1.0  # while a replica has not replayed a commit heard
_REPLICA_RETRIES = 5
_SETTLE = 1.0


class _KeyRevoked(Exception):
    pass


class ChangeStream(Response):
    media_type = EVENT_STREAM

    def __init__(
        self,
        hub: StreamHub,
        codec: CursorCodec,
        binding: str,
        owner: Principal,
        key_hash: str,
        position: FeedPosition,
    ) -> None:
        super().__init__(headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        # Endless: no content-length (Response would say 0), so the body goes out chunked.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.hub, self.settings = hub, hub.settings
        self.owner, self.key_hash = owner, key_hash
        self.position = position
        self.last_id = positions.encode_feed(codec, binding, position)
        self.buffer = StreamBuffer(self.settings.stream_buffer_bytes, hub.buffered_bytes)
        self.subscription: Subscription | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tasks: list[asyncio.Task[Any]] = []
        try:
            listener = self.hub.listener
            subscription = await listener.subscribe(self.owner.owner_id, self.owner.key_id)
            self.subscription = subscription
            subscription.recheck_key = True  # a revocation heard before we subscribed is missed
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            tasks = [
                asyncio.create_task(self._sender(send, subscription)),
                asyncio.create_task(_disconnected(receive)),
                asyncio.create_task(self._producer(subscription)),
            ]
            await asyncio.wait(tasks[:2], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.subscription is not None:
                self.hub.listener.unsubscribe(self.subscription)
            self.buffer.release()
            self.hub.release(self.owner.key_id)

    async def _producer(self, subscription: Subscription) -> None:
        try:
            reason = await self._pump(subscription)
        except ReaderTooSlow:
            logger.warning("change stream: the reader fell behind; told to resume and closed")
            data = json.dumps({"reason": "slow-reader", "resume_after": self.last_id})
            self.buffer.put_nowait(sse_event(self.last_id, "resume", data))
        except _KeyRevoked:
            self.buffer.discard()  # nothing more reaches a revoked key, queued or not
            logger.info("change stream: closed (key revoked)")
        except Exception:
            # A failed read (an outage): the client reconnects with Last-Event-ID.
            logger.warning("change stream: read failed; closed", exc_info=True)
        else:
            logger.info("change stream: closed (%s)", reason)
        self.buffer.end()

    async def _pump(self, subscription: Subscription) -> str:
        listener, retry, lag_retries = self.hub.listener, 0.0, 0
        # The first wait is short: a writer that checked `live_owners` at its commit just before
        # this stream registered its owner commits unannounced (migration live_owners_notify).
        first_wait = True
        # A replica may not have replayed a commit yet when its NOTIFY (from the primary) wakes
        # us: then a wake that finds nothing is retried a few times, with backoff.
        replica = self.settings.read_database_url is not None
        while True:
            if self.hub.closing.is_set():
                return "shutdown"
            await self._check_key(subscription)
            woken = subscription.wake.is_set()
            subscription.wake.clear()  # before reading: a commit heard meanwhile wakes again
            if first_wait or not listener.up:  # else a positioning woke us: they are there
                await self.hub.clock.settle(self.owner.owner_id)
            delivered = await self._catch_up(subscription, listener.generation)
            if delivered:
                lag_retries = 0
            elif replica and woken:
                lag_retries = _REPLICA_RETRIES
            if lag_retries:
                lag_retries -= 1
                retry = min(max(retry * 2, _RETRY_FIRST), _RETRY_MAX)
            else:
                retry = 0.0
            timeout = retry or (None if listener.up else self.settings.stream_poll_interval)
            if first_wait:
                timeout, first_wait = min(timeout or _SETTLE, _SETTLE), False
            # asyncio.timeout, not wait_for: no extra task per wait (idle streams cost ~nothing).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await subscription.wake.wait()

    async def _check_key(self, subscription: Subscription) -> None:
        """The listener marks a revoked key's streams (so does the hub's check while the
        listener is down); a lookup only at the stream's start."""
        if subscription.recheck_key:
            subscription.recheck_key = False
            if await auth.lookup(self.key_hash) is None:
                subscription.revoked = True
        if subscription.revoked:
            raise _KeyRevoked()

    async def _catch_up(self, subscription: Subscription, generation: int) -> int:
        """Queue every change after the position; the number queued. The key is checked before
        each event."""
        delivered = 0
        while True:
            read = await self.hub.feed.read(self.owner.owner_id, self.position, generation)
            for event in read.events:
                if subscription.revoked:
                    raise _KeyRevoked()
                await self.buffer.put(event.data, self.settings.stream_send_timeout)
                self.position, self.last_id = event.position, event.id
                delivered += 1
            if not read.more:
                return delivered

    async def _sender(self, send: Send, subscription: Subscription) -> None:
        # A reader that takes nothing at all for this long is gone: stop waiting for it. Longer
        # than the slow-reader cut, so that a reader who resumes still gets the final event.
        abandon = 3 * self.settings.stream_send_timeout + self.settings.stream_heartbeat
        while True:
            try:
                async with asyncio.timeout(self.settings.stream_heartbeat):
                    item = await self.buffer.get()
            except TimeoutError:
                item = HEARTBEAT
            if item is None or subscription.revoked:
                break
            message = {"type": "http.response.body", "body": item, "more_body": True}
            try:
                async with asyncio.timeout(abandon):
                    await send(message)
            except TimeoutError:
                logger.warning("change stream: the reader stopped reading; connection dropped")
                return
            if item is not HEARTBEAT:
                self.buffer.sent(item)
        end = {"type": "http.response.body", "body": b"", "more_body": False}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(abandon):
                await send(end)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


_EXAMPLE = (
    ": heartbeat\n\n"
    "id: eyJiIjoiNGQ...Ig.9aXk3...\nevent: change\n"
    'data: {"id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","version":2,"op":"update",'
    '"note":{"id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","title":"..."}}\n\n'
)
_DESCRIPTION = """
The change feed of `GET /v1/changes`, pushed as
[Server-Sent Events](https://html.spec.whatwg.org/multipage/server-sent-events.html).
It starts after `cursor`, or after the `Last-Event-ID` header (which wins), both the feed's
opaque cursor; with neither, from the beginning. It first catches up, then waits for commits.

Each change is one event: `id:` the cursor after this change, `event: change`, `retry:` the
milliseconds to wait before reconnecting, and `data:` the same JSON entry `GET /v1/changes`
returns (`id`, `version`, `op`, `note`). A browser's `EventSource`, which cannot send
`Authorization`, opens it with `?access_token=` from `POST /v1/changes/stream-tokens`.
Events follow the feed's order and rule: none is sent while an earlier transaction could still
commit before it, so reconnecting with `Last-Event-ID` loses and repeats nothing.

A comment line (`: heartbeat`) comes every `NOTES_STREAM_HEARTBEAT` seconds. A client that
reads too slowly gets a last event `event: resume` (data:
`{"reason": "slow-reader", "resume_after": "<cursor>"}`), and the stream ends; so it does when
the key is revoked or the server shuts down: reconnect with the last id. A client reads too
slowly when `NOTES_STREAM_BUFFER_BYTES` of events wait for it for `NOTES_STREAM_SEND_TIMEOUT`.
Beyond `NOTES_STREAM_MAX_PER_KEY` open streams of one key: 429 with `Retry-After`; beyond
`NOTES_STREAM_MAX` open streams per worker: 503 with `Retry-After`.
"""


@router.get(
    "/changes/stream",
    response_class=ChangeStream,
    status_code=200,
    response_description="An endless `text/event-stream` of change events",
    summary="Change stream (Server-Sent Events)",
    description=_DESCRIPTION,
    responses={
        200: {
            "content": {EVENT_STREAM: {"schema": {"type": "string"}, "example": _EXAMPLE}},
        },
        429: {"description": "Too many open streams for this key"},
        503: {"description": "Too many open streams on this worker, or shutting down"},
    },
)
async def change_stream(
    request: Request,
    caller: StreamAuth,
    cursors: Cursors,
    cursor: Cursor = None,
    last_event_id: Annotated[str | None, Header(max_length=1024)] = None,
) -> Response:
    owner = caller.principal
    binding = positions.feed_binding(cursors, owner.owner_id)
    start = last_event_id or cursor
    position = positions.decode_feed(cursors, start, binding) if start else positions.FEED_START
    hub: StreamHub = request.app.state.streams
    hub.reserve(owner.key_id)
    return ChangeStream(hub, cursors, binding, owner, caller.key_hash, position)
