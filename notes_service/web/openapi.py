"""The OpenAPI document, completed: HTTP bearer auth on every `/v1` operation (so /docs has an
Authorize button), every problem response an operation can give (typed as
`application/problem+json`), an introduction, descriptions and examples; and what client
generators need (SPEC §8, from openapi_clients.py).

FastAPI generates the paths and models; this adds what it cannot infer, once, when the document
is first asked for. Which problems apply is derived from each operation's parameters, so a new
route gets the right list without an edit here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from notes_service.web import openapi_text as text
from notes_service.web.openapi_clients import (
    NDJSON_BODY,
    RESPONSE_HEADERS,
    RETRY_AFTER,
    SERVERS,
    SSE_EVENT,
    SSE_EXAMPLE,
    TAGS,
    name_enum_values,
    optional_defaults,
)
from notes_service.web.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

BEARER = "bearerAuth"
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# slug -> (status, when)
_PROBLEMS: dict[str, tuple[int, str]] = {
    "invalid-json": (400, "the body is not valid JSON (`detail` says where it broke)"),
    "invalid-cursor": (400, "the cursor is garbled, altered, or from another query"),
    "cursor-expired": (
        410,
        "a change-feed cursor the feed can no longer serve: sync from the start",
    ),
    "bad-request": (400, "the body cannot be read (e.g. not UTF-8)"),
    "invalid-if-match": (
        400,
        "`If-Match` is not `*` or quoted entity tags (e.g. an ETag sent without its quotes)",
    ),
    "unknown-parameter": (
        400,
        "a query parameter this operation does not take; `errors` names each",
    ),
    "unauthorized": (401, "no key, not a Bearer key, not shaped like a key, unknown or revoked"),
    "key-expired": (401, "the key is past its `expires_at`"),
    "insufficient-scope": (403, "the key lacks the scope this route needs; `scope` names it"),
    "not-found": (404, "no such note (or key, or webhook) for this owner"),
    "note-trashed": (409, "the note is in the trash"),
    "idempotency-in-flight": (409, "a request with this Idempotency-Key is still running"),
    "import-conflict": (409, "a line's id is one of your notes and `on_conflict=fail`"),
    "precondition-failed": (412, "`If-Match` does not match the note's current ETag"),
    "payload-too-large": (413, "the body is over the size limit"),
    "unsupported-media-type": (415, "the body is not sent as `application/json`"),
    "validation": (422, "a body field, parameter or header is invalid; `errors` names each"),
    "idempotency-key-reused": (422, "the Idempotency-Key was first used with another request"),
    "unavailable": (
        503,
        "the database is unreachable or busy (or, on the stream, too many streams are open); "
        "retry after `Retry-After`",
    ),
    "overloaded": (
        503,
        "the worker is at its limit of requests in flight; retry after `Retry-After`",
    ),
    "database-timeout": (
        503,
        "a statement ran past the database timeouts; retry after `Retry-After`",
    ),
    "not-ready": (503, "a readiness check failed; `checks` names each"),
}

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "example": PROBLEM_BASE + "not-found"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "description": "On a 422: each invalid field.",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}
# Any other error is a problem too, so clients and fuzzers (.ci/fuzz) can check every error
# answer against the schema.
_OTHER_PROBLEMS = {
    "4XX": "`method-not-allowed` or another client error (RFC 9457 problem; `type` says which)",
    "5XX": "`internal`: an unexpected error (no detail of it reaches the client)",
}


def problem_slugs(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """The problems this operation can answer, from what it takes."""
    params = {p["name"] for p in operation.get("parameters", [])}
    json_body = "application/json" in operation.get("requestBody", {}).get("content", {})
    slugs: list[str] = ["unknown-parameter"]
    if json_body:
        slugs += ["invalid-json", "payload-too-large", "unsupported-media-type"]
    if "cursor" in params:
        slugs.append("invalid-cursor")
    if path.startswith("/v1/changes"):
        slugs.append("cursor-expired")
    if path.startswith("/v1/"):
        slugs += ["unauthorized", "key-expired", "insufficient-scope"]
        slugs += ["unavailable", "overloaded", "database-timeout"]
    if params & {"note_id", "key_id", "webhook_id"}:
        slugs.append("not-found")
    if "If-Match" in params:
        slugs += ["invalid-if-match", "precondition-failed"]
    if "Idempotency-Key" in params:
        slugs += ["idempotency-in-flight", "idempotency-key-reused"]
    if method == "patch" or path.endswith("/revisions/{version}/restore"):
        slugs.append("note-trashed")
    if path == "/v1/import":
        slugs += ["bad-request", "import-conflict", "payload-too-large"]
    if params or json_body or path == "/v1/import":
        slugs.append("validation")
    if path == "/readyz":
        slugs.append("not-ready")

    return slugs


def _problem_responses(slugs: list[str]) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for slug in slugs:
        by_status.setdefault(_PROBLEMS[slug][0], []).append(slug)
    responses = {}
    for status, names in sorted(by_status.items()):
        lines = "; ".join(f"`{name}`: {_PROBLEMS[name][1]}" for name in names)
        example = {"type": PROBLEM_BASE + names[0], "title": "…", "status": status,
                   "detail": _PROBLEMS[names[0]][1], "request_id": "5b0c…"}  # fmt: skip
        responses[str(status)] = {
            "description": lines,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF, "example": example}},
        }
        if status == 503:
            responses[str(status)]["headers"] = {"Retry-After": RETRY_AFTER}
    return responses


# What `If-Match` must look like (notes/conditional.py): `*`, or quoted entity tags. Stated in
# the document so clients and fuzzers send it so; the service answers anything else with a 400
# `invalid-if-match` that says what is wrong (a pattern in the route would make it a bare 422).
IF_MATCH_PATTERN = r'^(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)$'


def _describe(method: str, path: str, operation: dict[str, Any]) -> None:
    description, request_example, response_example = text.OPERATIONS.get(
        (method, path), ("", None, None)
    )
    if description:
        operation["description"] = description
    for param in operation.get("parameters", []):
        param.setdefault("description", text.PARAMETERS.get(param["name"], ""))
        if param["name"] == "If-Match":
            param["schema"] = {"type": "string", "pattern": IF_MATCH_PATTERN, "title": "If-Match"}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and request_example is not None:
        body["example"] = request_example
    for status in ("200", "201"):
        content = operation["responses"].get(status, {}).get("content", {})
        if response_example is not None and "application/json" in content:
            content["application/json"]["example"] = response_example


def _special_media_types(spec: dict[str, Any]) -> None:
    """The operations whose bodies are not JSON: NDJSON import/export, the event stream, and
    /metrics."""
    ndjson = {"schema": NDJSON_BODY, "example": text.IMPORT_EXAMPLE}
    spec["paths"]["/v1/import"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/x-ndjson": ndjson},
    }
    spec["paths"]["/v1/export"]["get"]["responses"]["200"]["content"] = {
        "application/x-ndjson": {"schema": NDJSON_BODY}
    }
    stream = spec["paths"]["/v1/changes/stream"]["get"]["responses"]["200"]["content"]
    stream["text/event-stream"] = {"schema": SSE_EVENT, "example": SSE_EXAMPLE}
    spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"] = {
        "text/plain": {"schema": {"type": "string"}}
    }


def build(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description=text.INTRODUCTION,
        routes=app.routes,
        tags=TAGS,
        servers=SERVERS,
        contact=app.contact,
    )
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = _PROBLEM_SCHEMA
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "nsk_… API key",
            "description": "A key from `notes-service keys create --owner NAME`.",
        }
    }
    _special_media_types(spec)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's HTTPValidationError: ours is a problem
            responses.update(_problem_responses(problem_slugs(method, path, operation)))
            for status, response in responses.items():
                if headers := RESPONSE_HEADERS.get((method, path, status)):
                    response["headers"] = headers
            for status, description in _OTHER_PROBLEMS.items():
                content = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
                responses.setdefault(status, {"description": description, "content": content})
            if path.startswith("/v1/"):
                operation["security"] = [{BEARER: []}]
            _describe(method, path, operation)
    name_enum_values(spec)
    optional_defaults(spec)
    return spec


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
