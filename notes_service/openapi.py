"""The OpenAPI document states what clients really get: every error is an RFC 9457 problem
(`application/problem+json`), not FastAPI's default `application/json` 422 body, so generated
clients and fuzzers (.ci/fuzz) can check error answers against the schema too."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from notes_service.problems import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {"loc": {"type": "array"}, "msg": {"type": "string"}},
            },
        },
    },
}
_PROBLEM_RESPONSE = {
    "description": "A problem (RFC 9457): `type` says which; 422 adds `errors`",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
# Routes whose 200 is not JSON (FastAPI documents every plain route as application/json).
_NOT_JSON = {("/metrics", "get"): "text/plain"}


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERRORS:
        components.pop(name, None)
    components["Problem"] = PROBLEM_SCHEMA
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            if (path, method) in _NOT_JSON:
                ok = {"schema": {"type": "string"}}
                responses["200"]["content"] = {_NOT_JSON[path, method]: ok}
            responses.pop("422", None)
            responses["4XX"] = _PROBLEM_RESPONSE
            responses["5XX"] = _PROBLEM_RESPONSE
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
