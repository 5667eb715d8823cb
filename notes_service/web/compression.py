"""gzip for answers over 1 KiB (SPEC §8): Starlette's GZipMiddleware, entered only by requests
that accept gzip, so the others (a benchmark's, most API clients') pay no wrapped `send`.
Starlette leaves `text/event-stream` alone (the change stream), and compresses a streamed body
(the export) chunk by chunk with a sync flush, so nothing is held back."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

MINIMUM_SIZE = 1024
LEVEL = 6  # zlib's default: most of level 9's gain at a fraction of its CPU


class Gzip(GZipMiddleware):
    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, minimum_size=MINIMUM_SIZE, compresslevel=LEVEL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _accepts_gzip(scope):
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _accepts_gzip(scope: Scope) -> bool:
    return any(k == b"accept-encoding" and b"gzip" in v for k, v in scope["headers"])
