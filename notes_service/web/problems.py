"""One error hierarchy, rendered as RFC 9457 `application/problem+json` by one set of handlers."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from asyncpg.exceptions import (
    CannotConnectNowError,
    ConnectionDoesNotExistError,
    IdleInTransactionSessionTimeoutError,
    InterfaceError,
    InternalClientError,
    LockNotAvailableError,
    OperatorInterventionError,
    PostgresConnectionError,
    QueryCanceledError,
    TooManyConnectionsError,
)
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import Scope
from tortoise.exceptions import DBConnectionError, DoesNotExist, IntegrityError

from notes_service.errors import (
    AppError,
    BadRequest,
    Conflict,
    DatabaseTimeout,
    InternalError,
    InvalidJson,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from notes_service.platform.logs import describe_error

logger = logging.getLogger(__name__)

PROBLEM_BASE = "urn:notes-service:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"
JSON_MEDIA_TYPE = "application/json"


DATABASE_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,  # connect or pool acquire timed out
    CannotConnectNowError,
    ConnectionDoesNotExistError,
    InterfaceError,  # connection closed underneath the pool
    # A connection the server ended with a FATAL while it sat idle: asyncpg reads the message
    # as a protocol error, and the next statement on it fails with "cannot switch to state …".
    InternalClientError,
    OperatorInterventionError,  # admin shutdown, crash shutdown
    PostgresConnectionError,
    TooManyConnectionsError,
    DBConnectionError,
)


# The server's own limits (settings NOTES_DB_*_TIMEOUT) cut a statement or transaction short.
DATABASE_TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (
    QueryCanceledError,  # statement_timeout
    LockNotAvailableError,  # lock_timeout
    IdleInTransactionSessionTimeoutError,
)


def problem_response(error: AppError, request_id: str | None) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + error.slug,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "request_id": request_id,
        **error.extra,
    }
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type=PROBLEM_MEDIA_TYPE
    )


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def validation_errors(raw: Sequence[Any]) -> list[dict[str, Any]]:
    errors = []
    for item in raw:
        msg = str(item.get("msg", "invalid value"))
        # Pydantic prefixes messages raised by our validators with "Value error, ".
        msg = msg.removeprefix("Value error, ")
        errors.append({"loc": list(item.get("loc", ())), "msg": msg})
    return errors


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(exc, _request_id(request))


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    error: AppError
    if (sent := await _other_media_type(request)) is not None:
        # FastAPI validates such a body as bytes ("Input should be a valid dictionary").
        error = UnsupportedMediaType(f"The body must be {JSON_MEDIA_TYPE}; it was sent {sent}")
    elif broken := next((e for e in errors if e.get("type") == "json_invalid"), None):
        error = InvalidJson(_json_error_detail(broken, exc.body))
    else:
        error = ValidationFailed(validation_errors(errors))
    return problem_response(error, _request_id(request))


async def _other_media_type(request: Request) -> str | None:
    """The media type of a body sent to a JSON-body route as anything but JSON (FastAPI does
    not parse it: a missing Content-Type counts as not JSON too), else None."""
    if getattr(request.scope.get("route"), "body_field", None) is None:
        return None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == JSON_MEDIA_TYPE or media_type.endswith("+json"):
        return None
    if not await request.body():
        return None  # no body at all: the 422 "Field required" says it better
    return f"as {media_type}" if media_type else "without a Content-Type header"


def _json_error_detail(error: Mapping[str, Any], document: object) -> str:
    """`Expecting ',' delimiter at line 1, column 14 (character 13)`: where the JSON broke."""
    reason = str(error.get("ctx", {}).get("error", "invalid JSON"))
    position = error["loc"][-1] if isinstance(error["loc"][-1], int) else 0
    text = document if isinstance(document, str) else ""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return (
        f"The body is not valid JSON: {reason} at line {line}, column {column} "
        f"(character {position})"
    )


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: AppError
    if exc.status_code == 404:
        error = NotFound("No route matches this path")
    elif exc.status_code == 405:
        error = MethodNotAllowed(headers={"Allow": ", ".join(allowed_methods(request.scope))})
    elif exc.status_code == 413:
        error = PayloadTooLarge(str(exc.detail))
    elif exc.status_code == 400:
        error = BadRequest(str(exc.detail))
    else:
        error = AppError(str(exc.detail))
        error.status, error.title = exc.status_code, str(exc.detail)
    return problem_response(error, _request_id(request))


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route accepts for this path. (Starlette's own Allow header names only
    the first route that matched the path, e.g. POST but not GET for /v1/notes.)"""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        routes = scope["app"].router.routes
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in routes):
            allowed.append(method)
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(1, "HEAD")  # served for every GET by the request middleware
    return allowed


async def _does_not_exist(request: Request, exc: Exception) -> Response:
    return problem_response(NotFound(), _request_id(request))


async def _integrity_error(request: Request, exc: Exception) -> Response:
    logger.warning("integrity error reached the handler: %s", describe_error(exc))
    return problem_response(
        Conflict("The request conflicts with stored data"), _request_id(request)
    )


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds):
            return True
        current = current.__cause__ or current.__context__
    return False


def error_for_exception(exc: BaseException) -> AppError:
    """Turn an unexpected exception into what the client may see: never its text."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, StarletteHTTPException) and exc.status_code == 413:
        return PayloadTooLarge(str(exc.detail))
    if _caused_by(exc, DATABASE_TIMEOUT_ERRORS):
        return DatabaseTimeout("The database did not finish the request in time; retry later")
    if _caused_by(exc, DATABASE_OUTAGE_ERRORS):
        return ServiceUnavailable("The database is unavailable; retry shortly")
    return InternalError("An unexpected error occurred; quote the request_id when reporting it")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(DoesNotExist, _does_not_exist)
    app.add_exception_handler(IntegrityError, _integrity_error)
