"""Stream tokens (SPEC §8) under a real uvicorn: a key is traded for a short-lived token that
opens GET /v1/changes/stream as `?access_token=` and nothing else, stops with its key, and
never reaches the log; events carry `retry:`; the stream is never gzipped."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema_rs
import pytest

from notes_service.accounts.stream_tokens import StreamTokens
from tests.support.cli import run_cli
from tests.support.servers import Service, cli_key, service
from tests.support.sse import STREAM, Events, stream_client

SECRET = "test-cursor-secret-not-for-production"  # what tests/support/servers.py serves with


@pytest.fixture(scope="module")
def svc(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    log = tmp_path_factory.mktemp("tokens") / "service.log"
    with service(log, {"NOTES_DATABASE_URL": database_url}) as server:
        server.wait_ready()
        yield server


@pytest.fixture
async def client(svc: Service) -> Any:
    async with stream_client(svc.url) as client:
        yield client


async def _token(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post("/v1/changes/stream-tokens", headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    token: str = body["token"]
    return token


async def test_a_token_opens_the_stream_and_events_carry_retry(
    client: httpx.AsyncClient, svc: Service, database_url: str
) -> None:
    headers = cli_key(database_url, f"tok-{uuid.uuid4().hex[:8]}")
    token = await _token(client, headers)
    params = {"access_token": token}
    gzip = {"Accept-Encoding": "gzip"}
    async with client.stream("GET", STREAM, params=params, headers=gzip) as response:
        assert response.status_code == 200
        assert "content-encoding" not in response.headers  # never compressed
        events = Events(response)
        try:
            created = await client.post("/v1/notes", json={"title": "pushed"}, headers=headers)
            event = await events.next(5)
        finally:
            events.close()
    assert event.json()["id"] == created.json()["id"]
    assert event.retry.isdigit() and int(event.retry) > 0
    # The event as an SSE client (and schemathesis) parses it fits the documented schema.
    spec = (await client.get("/openapi.json")).json()
    content = spec["paths"][STREAM]["get"]["responses"]["200"]["content"]
    parsed = {"id": event.id, "event": event.event, "retry": int(event.retry), "data": event.data}
    jsonschema_rs.validate(content["text/event-stream"]["schema"], parsed)
    assert token not in svc.log()
    assert token.split(".")[1] not in svc.log()


async def test_a_token_is_refused_everywhere_but_the_stream(
    client: httpx.AsyncClient, database_url: str
) -> None:
    headers = cli_key(database_url, f"tok-{uuid.uuid4().hex[:8]}")
    token = await _token(client, headers)
    for method, path in [("GET", "/v1/notes"), ("GET", "/v1/changes"), ("POST", "/v1/notes")]:
        response = await client.request(method, path, params={"access_token": token})
        assert response.status_code == 401, path
        assert response.headers["content-type"] == "application/problem+json"
    as_bearer = await client.get("/v1/notes", headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401
    # Nor does a token mint another.
    again = await client.post(
        "/v1/changes/stream-tokens", headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 401


async def test_expired_forged_and_foreign_tokens_are_401(
    client: httpx.AsyncClient, database_url: str
) -> None:
    headers = cli_key(database_url, f"tok-{uuid.uuid4().hex[:8]}")
    token = await _token(client, headers)
    payload = token.removeprefix("nst_").split(".")[0]
    key_id = StreamTokens(SECRET).key_id(token)
    expired, _ = StreamTokens(SECRET).issue(key_id, now=time.time() - 301)
    foreign, _ = StreamTokens("another-secret").issue(key_id)
    for bad in (expired, foreign, f"nst_{payload}.AAAA", "nsk_notatoken", "x" * 2000):
        response = await client.get(STREAM, params={"access_token": bad})
        assert response.status_code == 401, bad[:20]
        assert response.headers["www-authenticate"] == "Bearer"
    assert "expired" in (await client.get(STREAM, params={"access_token": expired})).text


async def test_revoking_the_key_stops_its_tokens_and_their_streams(
    client: httpx.AsyncClient, database_url: str
) -> None:
    owner = f"tok-{uuid.uuid4().hex[:8]}"
    headers = cli_key(database_url, owner)
    token = await _token(client, headers)
    async with client.stream("GET", STREAM, params={"access_token": token}) as response:
        assert response.status_code == 200
        events = Events(response)
        try:
            listed = run_cli("keys", "list", "--owner", owner, database_url=database_url)
            key_id = listed.stdout.split()[0]
            assert run_cli("keys", "revoke", key_id, database_url=database_url).returncode == 0
            await asyncio.wait_for(events.ended.wait(), 5)
        finally:
            events.close()
    refused = await client.get(STREAM, params={"access_token": token})
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


def test_the_route_is_documented(svc: Service) -> None:
    spec = svc.get("/openapi.json").json()
    create = spec["paths"]["/v1/changes/stream-tokens"]["post"]
    assert set(create["responses"]["201"]["content"]["application/json"]["schema"].values())
    stream = spec["paths"]["/v1/changes/stream"]["get"]
    assert "access_token" in {p["name"] for p in stream["parameters"]}
