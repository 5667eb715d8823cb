"""gzip (SPEC §8): answers over 1 KiB go out compressed to a client that accepts it (JSON, the
NDJSON export, /openapi.json, the /docs assets); small ones and clients that do not ask get
them raw. The change stream never is (tests/test_stream_tokens.py, over a real socket)."""

from __future__ import annotations

import gzip
import json

import httpx

from tests.support.factories import api_key, create_note

GZIP = {"Accept-Encoding": "gzip, br"}
IDENTITY = {"Accept-Encoding": "identity"}  # httpx asks for gzip by default


async def _raw(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    """The answer as sent on the wire (httpx would otherwise decode it)."""
    async with client.stream("GET", path, headers=headers) as response:
        response._content = b"".join([chunk async for chunk in response.aiter_raw()])
    return response


async def test_large_answers_are_gzipped_and_small_ones_are_not(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    for number in range(30):
        await create_note(client, headers, title=f"note {number}", body="words " * 20)
    listing = await _raw(client, "/v1/notes?limit=100", headers | GZIP)
    assert listing.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in listing.headers["vary"]
    assert int(listing.headers["content-length"]) == len(listing.content)
    page = json.loads(gzip.decompress(listing.content))
    assert len(page["items"]) == 30
    plain = await _raw(client, "/v1/notes?limit=100", headers | IDENTITY)
    assert "content-encoding" not in plain.headers and json.loads(plain.content) == page
    small = await _raw(client, "/v1/notes?limit=1", headers | GZIP)
    assert len(small.content) < 1024 and "content-encoding" not in small.headers


async def test_the_export_is_gzipped_line_for_line(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    for number in range(60):
        await create_note(client, headers, title=f"note {number}", body="text " * 10)
    packed = await _raw(client, "/v1/export", headers | GZIP)
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["content-type"] == "application/x-ndjson"
    lines = gzip.decompress(packed.content).decode().splitlines()
    assert len(lines) == 60
    assert lines == (await client.get("/v1/export", headers=headers)).text.splitlines()


async def test_the_document_and_the_docs_assets_are_gzipped(client: httpx.AsyncClient) -> None:
    for path in (
        "/openapi.json",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
    ):
        response = await _raw(client, path, GZIP)
        assert response.status_code == 200, path
        assert response.headers["content-encoding"] == "gzip", path
        assert len(gzip.decompress(response.content)) > 2 * len(response.content), path
