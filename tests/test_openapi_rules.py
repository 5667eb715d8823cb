"""The OpenAPI document states the rules the service applies, so generated clients and fuzzers
(.ci/fuzz) send data it accepts, and can check its error answers."""

from __future__ import annotations

import re
from typing import Any

import httpx

from notes_service.contract import TAG_PATTERN, TITLE_PATTERN
from tests.support.factories import api_key, create_note


async def _schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


async def test_title_and_tag_rules_are_in_the_schema(client: httpx.AsyncClient) -> None:
    components = (await _schema(client))["components"]["schemas"]
    title = components["NoteCreate"]["properties"]["title"]
    assert (title["pattern"], title["maxLength"]) == (TITLE_PATTERN, 200)
    tags = components["NoteCreate"]["properties"]["tags"]
    assert tags["items"]["pattern"] == TAG_PATTERN and tags["maxItems"] == 20
    # The patterns agree with the validators on what they refuse.
    assert re.search(TITLE_PATTERN, "   ") is None and re.search(TITLE_PATTERN, "a\x07") is None
    assert re.search(TITLE_PATTERN, " ok ") is not None
    assert re.search(TAG_PATTERN, "a b") is None and re.search(TAG_PATTERN, "a,b") is None


async def test_patch_fields_are_never_null_in_the_schema(client: httpx.AsyncClient) -> None:
    update = (await _schema(client))["components"]["schemas"]["NoteUpdate"]["properties"]
    assert "null" not in str(update)
    # A null is refused by the service, as the schema now says.
    headers = await api_key()
    note = await create_note(client, headers)
    response = await client.patch(f"/v1/notes/{note['id']}", json={"pinned": None}, headers=headers)
    assert response.status_code == 422


async def test_errors_are_documented_as_problems(client: httpx.AsyncClient) -> None:
    schema = await _schema(client)
    operation = schema["paths"]["/v1/notes"]["post"]
    for status in ("422", "4XX", "5XX"):
        content = operation["responses"][status]["content"]
        assert list(content) == ["application/problem+json"]
    metrics = schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]


async def test_the_if_match_pattern_agrees_with_the_service(client: httpx.AsyncClient) -> None:
    schema = await _schema(client)
    delete = schema["paths"]["/v1/notes/{note_id}"]["delete"]
    (param,) = [p for p in delete["parameters"] if p["name"] == "If-Match"]
    pattern = param["schema"]["pattern"]
    headers = await api_key()
    note = await create_note(client, headers)
    url = f"/v1/notes/{note['id']}"
    etag = (await client.get(url, headers=headers)).headers["etag"]
    for value in (etag, "*", f'W/"x", {etag}', '"a","b"'):
        assert re.search(pattern, value), value
        response = await client.patch(
            url, json={"pinned": True}, headers=headers | {"If-Match": value}
        )
        assert response.status_code in (200, 412), (value, response.text)
    for value in (etag.strip('"'), "nonsense", '"unterminated'):
        assert re.search(pattern, value) is None, value
        response = await client.patch(
            url, json={"pinned": True}, headers=headers | {"If-Match": value}
        )
        assert response.status_code == 400, value
