"""The one pure ASGI middleware: request ids, the body-size limit, the concurrency limit, HEAD,
unknown query parameters, the last-resort problem response, and metrics and the access line for
every request (one layer, not several: each layer costs every request a coroutine and a wrapped
`send`)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notes_service.errors import Overloaded, PayloadTooLarge, ServiceUnavailable
from notes_service.platform.logs import request_id_var
from notes_service.web.metrics import Metrics
from notes_service.web.parameters import QueryRules
from notes_service.web.problems import error_for_exception, problem_response

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _is_api(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        metrics: Metrics,
        limit_concurrency: int | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        # API requests in flight in this worker (NOTES_LIMIT_CONCURRENCY); probes and /metrics
        # are never refused, so an overloaded worker is not also reported dead.
        self.limit_concurrency = limit_concurrency
        self.api_in_flight = 0
        self.query_rules = QueryRules()

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
        # HEAD is served as the GET it stands for, without the body (RFC 9110 §9.3.2).
        head = scope["method"] == "HEAD"
        if head:
            scope["method"] = "GET"
        api = _is_api(scope["path"])
        self.metrics.in_flight.inc()
        self.api_in_flight += api
        try:
            await self._handle(scope, receive, send, request_id, status, api, head)
        finally:
            self.api_in_flight -= api
            self.metrics.in_flight.dec()
            if head:
                scope["method"] = "HEAD"
            self.metrics.observe(scope, status[0], time.perf_counter() - start)
            request_id_var.reset(token)

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: str,
        status: list[int],
        api: bool,
        head: bool,
    ) -> None:
        response_started = False

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
                if head:
                    # The GET's headers (Content-Length included), then the end at once: the
                    # body goes nowhere, and an endless one (the change stream) stops, since
                    # the client's response is complete (the server reports it gone).
                    await send(message)
                    message = {"type": "http.response.body", "body": b"", "more_body": False}
            elif head and message["type"] == "http.response.body":
                return
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
            if api and self.limit_concurrency and self.api_in_flight > self.limit_concurrency:
                raise Overloaded("This worker is at its limit of requests in flight; retry shortly")
            self.query_rules.check(scope)
            await self.app(scope, receive_limited, send_with_id)
        except Exception as exc:
            error = error_for_exception(exc)
            if isinstance(error, Overloaded):
                pass  # counted in the metrics (status 503); a line each would flood the log
            elif isinstance(error, ServiceUnavailable):
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
