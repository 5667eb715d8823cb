"""The one pure ASGI middleware: request ids, the body-size limit, the last-resort problem
response, and metrics and the access line for every request (one layer, not two: each layer
costs every request a coroutine and a wrapped `send`)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notes_service.errors import PayloadTooLarge, ServiceUnavailable
from notes_service.platform.logs import request_id_var
from notes_service.web.metrics import Metrics
from notes_service.web.problems import error_for_exception, problem_response

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        sent_id = _header(scope, b"x-request-id")
        request_id = sent_id if sent_id and _REQUEST_ID.fullmatch(sent_id) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        # What the client gets if nothing is sent: the server's own 500.
        status = [500]
        self.metrics.in_flight.inc()
        try:
            await self._handle(scope, receive, send, request_id, status)
        finally:
            self.metrics.in_flight.dec()
            self.metrics.observe(scope, status[0], time.perf_counter() - start)
            request_id_var.reset(token)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, request_id: str, status: list[int]
    ) -> None:
        response_started = False
        api = scope["path"] == "/v1" or scope["path"].startswith("/v1/")

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if api:
                    # Per-owner data: never in a shared cache; a browser or client may keep a
                    # copy but must revalidate it (the ETag makes that a cheap 304).
                    headers.setdefault("Cache-Control", "private, no-cache")
            await send(message)

        limit = self.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await problem_response(PayloadTooLarge(_limit_detail(limit)), request_id)(
                scope, receive, send_with_id
            )
            return

        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException, because FastAPI turns any other error raised while
                    # reading the body into a 400.
                    raise HTTPException(413, _limit_detail(limit))
            return message

        try:
            await self.app(scope, receive_limited, send_with_id)
        except Exception as exc:
            error = error_for_exception(exc)
            if isinstance(error, ServiceUnavailable):
                # An outage is expected to end; one line per request, not a traceback each.
                logger.warning("database unavailable: %r", exc)
            elif error.status >= 500:
                logger.error("request failed: %s", type(exc).__name__, exc_info=exc)
            if response_started:
                if error.status < 500:
                    # Cut short on purpose (a key revoked mid-export): the server closes the
                    # connection without the body's end, which the client sees as incomplete.
                    logger.warning("response cut short: %s", error.detail)
                    return
                raise
            await problem_response(error, request_id)(scope, receive, send_with_id)


def _limit_detail(limit: int) -> str:
    return f"The request body exceeds {limit} bytes"
