"""The OpenAPI document a generated client (and /docs) relies on: bearer auth on every /v1
operation, every problem response typed as application/problem+json, and words that explain."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.support.factories import api_key

PROBLEM = "application/problem+json"


@pytest.fixture
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, path, op) for path, item in spec["paths"].items() for m, op in item.items()]


async def test_every_v1_operation_declares_bearer_auth_and_documents_401(
    spec: dict[str, Any],
) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    v1 = [(m, p, op) for m, p, op in _operations(spec) if p.startswith("/v1/")]
    assert len(v1) >= 17
    for method, path, op in v1:
        assert op["security"] == [{"bearerAuth": []}], (method, path)
        content = op["responses"]["401"]["content"]
        assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    for method, path, op in _operations(spec):
        if not path.startswith("/v1/"):
            assert "security" not in op, (method, path)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/v1/notes", {"400", "401", "409", "413", "415", "422", "503"}),
        ("patch", "/v1/notes/{note_id}", {"400", "401", "404", "409", "412", "413", "415", "422"}),
        ("get", "/v1/notes", {"400", "401", "422", "503"}),
        ("delete", "/v1/notes/{note_id}", {"401", "404", "412", "422", "503"}),
        ("post", "/v1/import", {"400", "401", "409", "413", "422", "503"}),
        ("get", "/readyz", {"503"}),
    ],
)
async def test_each_operation_lists_its_problem_responses(
    spec: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    responses = spec["paths"][path][method]["responses"]
    problems = {s for s, r in responses.items() if PROBLEM in r.get("content", {})}
    assert statuses <= problems
    for status in problems:
        assert responses[status]["description"].startswith("`"), status  # names its types
    assert "HTTPValidationError" not in spec["components"]["schemas"]


async def test_documented_problems_match_real_answers(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    documented = spec["paths"]["/v1/notes"]["post"]["responses"]
    headers = await api_key()
    json_headers = headers | {"Content-Type": "application/json"}
    answers = [
        await client.post("/v1/notes", content=b"{", headers=json_headers),
        await client.post("/v1/notes", json={"title": "x"}),
        await client.post("/v1/notes", content=b"{}", headers=headers | {"Content-Type": "x/y"}),
        await client.post("/v1/notes", json={"title": ""}, headers=headers),
    ]
    for answer in answers:
        assert answer.headers["content-type"] == PROBLEM
        slug = answer.json()["type"].rsplit(":", 1)[1]
        assert f"`{slug}`" in documented[str(answer.status_code)]["description"]


async def test_the_document_explains_the_api(spec: dict[str, Any]) -> None:
    intro = spec["info"]["description"]
    for topic in ("Authorize", "problem+json", "next_cursor", "Idempotency-Key", "If-Match",
                  "/v1/changes"):  # fmt: skip
        assert topic in intro, topic
    for method, path, op in _operations(spec):
        assert op.get("description"), (method, path)
        for param in op.get("parameters", []):
            assert param.get("description"), (method, path, param["name"])
        body = op.get("requestBody", {}).get("content", {})
        for media in body.values():
            assert "example" in media, (method, path)
    create = spec["paths"]["/v1/notes"]["post"]
    assert create["requestBody"]["content"]["application/json"]["example"]["title"] == "Groceries"
    assert create["responses"]["201"]["content"]["application/json"]["example"]["version"] == 1
    listed = spec["paths"]["/v1/notes"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"tag", "pinned", "sort", "cursor"}


async def test_operation_ids_are_short_camel_case_and_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(spec)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", operation_id), operation_id
        assert len(operation_id) <= 20, operation_id
    named = {(m, p): op["operationId"] for m, p, op in _operations(spec)}
    assert named[("post", "/v1/notes")] == "createNote"
    assert named[("get", "/v1/notes")] == "listNotes"
    assert named[("get", "/v1/notes/{note_id}")] == "getNote"
    assert named[("get", "/v1/changes/stream")] == "streamChanges"


async def test_tags_are_defined_and_servers_given(spec: dict[str, Any]) -> None:
    defined = {tag["name"] for tag in spec["tags"]}
    used = {tag for _, _, op in _operations(spec) for tag in op.get("tags", [])}
    assert used <= defined
    assert all(tag.get("description") for tag in spec["tags"])
    assert spec["servers"] == [{"url": "/", "description": "This server"}]


async def test_response_headers_are_declared(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    created = paths["/v1/notes"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "ETag", "Idempotent-Replayed"} <= set(created)
    assert "ETag" in paths["/v1/notes/{note_id}"]["get"]["responses"]["200"]["headers"]
    assert "ETag" in paths["/v1/notes/{note_id}"]["patch"]["responses"]["200"]["headers"]
    assert "Link" in paths["/v1/notes"]["get"]["responses"]["200"]["headers"]
    assert "Link" in paths["/v1/search"]["get"]["responses"]["200"]["headers"]
    for method, path, op in _operations(spec):
        if "503" in op["responses"]:
            retry = op["responses"]["503"]["headers"]["Retry-After"]
            assert retry["required"] is True, (method, path)


async def test_request_models_have_no_defaults_that_generators_make_required(
    spec: dict[str, Any],
) -> None:
    create = spec["components"]["schemas"]["NoteCreate"]
    assert create["required"] == ["title"]
    assert all("default" not in prop for prop in create["properties"].values())
    assert "Default: `false`" in create["properties"]["pinned"]["description"]
    sort = next(p for p in spec["paths"]["/v1/notes"]["get"]["parameters"] if p["name"] == "sort")
    assert "UPDATED_AT_DESC" in sort["schema"]["x-enum-varnames"]


async def test_the_ndjson_and_event_bodies_are_described(spec: dict[str, Any]) -> None:
    export = spec["paths"]["/v1/export"]["get"]["responses"]["200"]["content"]
    assert export["application/x-ndjson"]["schema"]["format"] == "binary"
    stream = spec["paths"]["/v1/changes/stream"]["get"]["responses"]["200"]["content"]
    event = stream["text/event-stream"]["schema"]
    assert event["required"] == ["event", "data"]
    assert event["properties"]["event"]["enum"] == ["change", "resume"]
