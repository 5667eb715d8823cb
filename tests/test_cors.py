"""CORS from NOTES_CORS_ORIGINS (SPEC §8): a preflight from an allowed origin gets 204 with the
route's methods and the API's headers; answers expose ETag and friends; any other origin, or no
setting at all, gets no CORS header; credentials never."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.support.factories import api_key, create_note, sibling_app

ORIGIN = "http://app.example:8080"


@pytest.fixture
async def cors_client(app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    cors = sibling_app(app, cors_origins=f"{ORIGIN}, https://other.example")
    transport = httpx.ASGITransport(app=cors)
    async with httpx.AsyncClient(transport=transport, base_url="http://notes.test") as http:
        yield http


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_a_preflight_from_an_allowed_origin_names_the_routes_methods(
    cors_client: httpx.AsyncClient,
) -> None:
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type, if-match",
    }
    response = await cors_client.options("/v1/notes/0b8f5d1e-0000-4000-8000-000000000000",
                                          headers=preflight)  # fmt: skip
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, HEAD, PATCH, DELETE"
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert allowed >= {"Authorization", "Content-Type", "If-Match", "If-None-Match",
                       "Idempotency-Key", "Last-Event-ID"}  # fmt: skip
    assert "access-control-allow-credentials" not in response.headers
    listing = await cors_client.options("/v1/notes", headers=preflight)
    assert listing.headers["access-control-allow-methods"] == "GET, HEAD, POST"


async def test_answers_to_an_allowed_origin_expose_the_api_headers(
    cors_client: httpx.AsyncClient,
) -> None:
    headers = await api_key() | {"Origin": ORIGIN}
    created = await cors_client.post("/v1/notes", json={"title": "x"}, headers=headers)
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip() for h in created.headers["access-control-expose-headers"].split(",")}
    assert exposed >= {"ETag", "Location", "Link", "Retry-After", "Idempotent-Replayed"}
    assert "Origin" in created.headers["vary"]
    assert "access-control-allow-credentials" not in created.headers
    refused = await cors_client.get("/v1/notes", headers={"Origin": ORIGIN})  # a 401 too
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ORIGIN


async def test_another_origin_gets_no_cors_headers(cors_client: httpx.AsyncClient) -> None:
    headers = await api_key()
    evil = "https://evil.example"
    preflight = {"Origin": evil, "Access-Control-Request-Method": "POST"}
    response = await cors_client.options("/v1/notes", headers=preflight)
    assert response.status_code == 405
    assert _cors_headers(response) == {}
    answer = await cors_client.get("/v1/notes", headers=headers | {"Origin": evil})
    assert answer.status_code == 200
    assert _cors_headers(answer) == {}


async def test_without_the_setting_there_is_no_cors(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    response = await client.options(f"/v1/notes/{note['id']}", headers=preflight)
    assert response.status_code == 405
    assert _cors_headers(response) == {}
    answer = await client.get(f"/v1/notes/{note['id']}", headers=headers | {"Origin": ORIGIN})
    assert answer.status_code == 200 and _cors_headers(answer) == {}
