"""The error hierarchy every layer raises: each error carries its HTTP status and its problem
`type` (`urn:notes-service:problem:<slug>`). web/problems.py renders them as RFC 9457 documents;
nothing here knows about the web framework."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class AppError(Exception):
    status: int = 500
    slug: str = "internal"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.detail)


class BadRequest(AppError):
    status, slug, title = 400, "bad-request", "Bad request"


class InvalidCursor(BadRequest):
    slug, title = "invalid-cursor", "Invalid cursor"

    def __init__(self, detail: str = "The cursor is malformed") -> None:
        super().__init__(detail)


class CursorExpired(AppError):
    status, slug, title = 410, "cursor-expired", "Cursor expired"

    def __init__(self) -> None:
        super().__init__(
            "The feed can no longer serve this cursor (it predates the feed's current format): "
            "sync again from the start, without a cursor"
        )


class InvalidJson(BadRequest):
    slug, title = "invalid-json", "Malformed JSON"


class InvalidIfMatch(BadRequest):
    slug, title = "invalid-if-match", "Malformed If-Match header"


class Unauthorized(AppError):
    status, slug, title = 401, "unauthorized", "Missing or invalid API key"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class KeyExpired(Unauthorized):
    slug, title = "key-expired", "The API key has expired"

    def __init__(self) -> None:
        super().__init__("The API key has expired: create a new one")


class InsufficientScope(AppError):
    status, slug, title = 403, "insufficient-scope", "The API key lacks a scope this needs"

    def __init__(self, scope: str, detail: str | None = None) -> None:
        super().__init__(
            detail or f"This needs the scope `{scope}`, which the API key does not hold",
            extra={"scope": scope},
        )


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(AppError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(AppError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(AppError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(AppError):
    status, slug, title = 422, "validation", "Request validation failed"

    def __init__(self, errors: Sequence[Mapping[str, Any]], detail: str | None = None) -> None:
        super().__init__(detail, extra={"errors": list(errors)})


class IdempotencyKeyInFlight(Conflict):
    slug, title = "idempotency-in-flight", "A request with this Idempotency-Key is in flight"


class IdempotencyKeyReused(ValidationFailed):
    slug, title = "idempotency-key-reused", "The Idempotency-Key was used with another request"

    def __init__(self, detail: str) -> None:
        super().__init__([{"loc": ["header", "Idempotency-Key"], "msg": detail}], detail)


class TooManyRequests(AppError):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str | None = None, retry_after: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(AppError):
    status, slug, title = 503, "unavailable", "Service temporarily unavailable"

    def __init__(self, detail: str | None = None, retry_after: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class Overloaded(ServiceUnavailable):
    slug, title = "overloaded", "Too many requests in flight"


class DatabaseTimeout(ServiceUnavailable):
    slug, title = "database-timeout", "The database did not answer in time"


class InternalError(AppError):
    status, slug, title = 500, "internal", "Internal server error"


class UnknownParameter(BadRequest):
    slug, title = "unknown-parameter", "Unknown query parameter"

    def __init__(self, names: Sequence[str], known: Sequence[str]) -> None:
        takes = ", ".join(f"`{name}`" for name in known) or "no query parameters"
        listed = ", ".join(f"`{name}`" for name in names)
        super().__init__(
            f"Unknown query parameter{'s' if len(names) > 1 else ''} {listed}: "
            f"this operation takes {takes}",
            extra={
                "errors": [{"loc": ["query", name], "msg": "unknown parameter"} for name in names]
            },
        )
