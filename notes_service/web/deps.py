from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from notes_service.accounts.auth import Principal, authenticate, key_hash_of
from notes_service.accounts.stream_tokens import StreamCaller, StreamTokens
from notes_service.cursors import CursorCodec
from notes_service.platform.feed_clock import FeedClock
from notes_service.platform.settings import Settings

CurrentOwner = Annotated[Principal, Depends(authenticate)]


async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]


async def cursor_codec(request: Request) -> CursorCodec:
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


Cursors = Annotated[CursorCodec, Depends(cursor_codec)]


async def feed_clock(request: Request) -> FeedClock:
    clock: FeedClock = request.app.state.feed_clock
    return clock


FeedClockDep = Annotated[FeedClock, Depends(feed_clock)]


async def stream_caller(
    request: Request,
    access_token: Annotated[
        str | None,
        Query(
            description="A stream token from `POST /v1/changes/stream-tokens`, for clients that "
            "cannot send `Authorization` (a browser's `EventSource`); accepted on this route only"
        ),
    ] = None,
) -> StreamCaller:
    """The change stream's caller: an API key as on every route, or a stream token."""
    if access_token is None or "authorization" in request.headers:
        return StreamCaller(await authenticate(request), key_hash_of(request))
    tokens: StreamTokens = request.app.state.stream_tokens
    caller = await tokens.caller(access_token)
    request.state.owner = caller.principal.owner_name
    return caller


StreamAuth = Annotated[StreamCaller, Depends(stream_caller)]
