"""What client generators need from the OpenAPI document (SPEC §8), beyond what FastAPI writes:
short camelCase operation ids, the response headers, every tag defined, `servers`, the SSE and
NDJSON bodies described, named enum values, and request defaults that do not make a field
required. openapi.py applies them; docs/clients.md says what a client developer gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

TAGS = [
    {"name": "notes", "description": "The write side: notes, revisions, the trash, import."},
    {
        "name": "queries",
        "description": "The read side: lists, search, tags, stats, the change feed and its "
        "stream, export.",
    },
    {"name": "keys", "description": "API keys: scopes, expiry, revocation (SPEC §11)."},
    {
        "name": "webhooks",
        "description": "Signed deliveries of the change feed to your URL (SPEC §12).",
    },
    {"name": "ops", "description": "Probes and metrics, for load balancers and Prometheus."},
]
# Relative: the document's own server, whatever host and port it is served from.
SERVERS = [{"url": "/", "description": "This server"}]

# Route function name -> operationId, where the camelCase of the name says too little.
_OPERATION_IDS = {
    "search": "searchNotes",
    "change_stream": "streamChanges",
    "tag_counts": "listTags",
    "stats": "getStats",
    "changes": "listChanges",
    "export": "exportNotes",
    "healthz": "getHealth",
    "readyz": "getReadiness",
    "metrics": "getMetrics",
}


def operation_id(route: APIRoute) -> str:
    """`createNote` for `create_note`: what a generated client names its function."""
    if route.name in _OPERATION_IDS:
        return _OPERATION_IDS[route.name]
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _header(description: str, *, required: bool = False) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


_ETAG = _header("The note's strong entity tag: send it back in `If-Match` / `If-None-Match`.")
_LINK = _header('`<…>; rel="next"`: the next page, when there is one.')
_REPLAYED = _header("`true` when this is the stored answer to an earlier request with this key.")
RETRY_AFTER = _header("Seconds to wait before retrying.", required=True)
# (method, path, status) -> the headers that answer carries.
RESPONSE_HEADERS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("post", "/v1/notes", "201"): {
        "Location": _header("The new note's URL.", required=True),
        "ETag": _ETAG,
        "Idempotent-Replayed": _REPLAYED,
    },
    ("post", "/v1/notes/batch", "201"): {"Idempotent-Replayed": _REPLAYED},
    ("get", "/v1/notes/{note_id}", "200"): {"ETag": _ETAG},
    ("get", "/v1/notes/{note_id}", "304"): {"ETag": _ETAG},
    ("patch", "/v1/notes/{note_id}", "200"): {"ETag": _ETAG},
    ("post", "/v1/notes/{note_id}/restore", "200"): {"ETag": _ETAG},
    ("post", "/v1/notes/{note_id}/revisions/{version}/restore", "200"): {"ETag": _ETAG},
    ("get", "/v1/notes", "200"): {"Link": _LINK},
    ("get", "/v1/search", "200"): {"Link": _LINK},
}

# One Server-Sent Event, as an SSE client parses it: what `schema` of a `text/event-stream`
# describes before OpenAPI 3.2 (each event; schemathesis reads it so).
SSE_EVENT: dict[str, Any] = {
    "title": "ChangeEvent",
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["change", "resume"]},
        "id": {"type": "string", "description": "The feed cursor after this event."},
        "retry": {"type": "integer", "description": "Milliseconds to wait before reconnecting."},
        "data": {
            "type": "string",
            "description": "`change`: a feed entry as in `GET /v1/changes` (JSON). `resume`: "
            '`{"reason": "slow-reader", "resume_after": "<cursor>"}`.',
            "contentMediaType": "application/json",
        },
    },
}
SSE_EXAMPLE = {
    "id": "eyJiIjoiNGQ...Ig.9aXk3...",
    "event": "change",
    "retry": 2000,
    "data": '{"id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","version":2,"op":"update","note":{…}}',
}
# A line of the NDJSON export and import: one note (with `revisions` when asked).
NDJSON_BODY = {
    "type": "string",
    "format": "binary",
    "description": "NDJSON: one JSON note per line, as in `NoteOut` (plus `revisions` when "
    "exported with `revisions=true`).",
}


def name_enum_values(node: Any) -> None:
    """`x-enum-varnames` for enums whose values are not names (`-updated_at`), so generated
    clients say `UPDATED_AT_DESC`, not `VALUE_0`."""
    if isinstance(node, dict):
        values = node.get("enum")
        if isinstance(values, list) and any(str(v).startswith("-") for v in values):
            node["x-enum-varnames"] = [
                str(v).lstrip("-").upper() + ("_DESC" if str(v).startswith("-") else "")
                for v in values
            ]
        for value in node.values():
            name_enum_values(value)
    elif isinstance(node, list):
        for value in node:
            name_enum_values(value)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"].rsplit("/", 1)[1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def optional_defaults(spec: dict[str, Any]) -> None:
    """A request model's defaults go into the words: TypeScript generators (openapi-typescript's
    default) make a field with a `default` required, and `{"title": "x"}` would not type-check
    as a `NoteCreate`. The service applies the default all the same."""
    schemas = spec["components"]["schemas"]
    bodies = [op.get("requestBody", {}) for item in spec["paths"].values() for op in item.values()]
    pending, seen = list(_refs(bodies)), set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(_refs(schemas[name]))
        for prop in schemas[name].get("properties", {}).values():
            if "default" in prop:
                default = json.dumps(prop.pop("default"))
                words = prop.get("description", "")
                prop["description"] = f"{words} Default: `{default}`.".strip()
