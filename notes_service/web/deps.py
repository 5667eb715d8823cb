from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from notes_service.accounts.auth import Principal, authenticate
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
