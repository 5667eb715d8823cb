from __future__ import annotations

import asyncpg
import httpx
import pytest

from notes_service.notes.idempotency import lock_id
from tests.support.factories import api_key, count, sql

PROBLEM = "application/problem+json"


async def test_a_retry_replays_the_stored_response(client: httpx.AsyncClient) -> None:
    headers = await api_key() | {"Idempotency-Key": "retry-me"}
    first = await client.post("/v1/notes", json={"title": "t", "tags": ["x"]}, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers

    # Same JSON, other key order and spacing: the same request.
    retry = await client.post(
        "/v1/notes",
        content=b'{ "tags": ["x"],   "title": "t" }',
        headers=headers | {"content-type": "application/json"},
    )
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == first.headers["etag"]
    assert await count("notes") == 1


async def test_the_same_key_with_another_body_is_422(client: httpx.AsyncClient) -> None:
    headers = await api_key() | {"Idempotency-Key": "k"}
    assert (await client.post("/v1/notes", json={"title": "a"}, headers=headers)).status_code == 201
    for url, payload in (
        ("/v1/notes", {"title": "b"}),
        ("/v1/notes/batch", {"notes": [{"title": "a"}]}),
    ):
        response = await client.post(url, json=payload, headers=headers)
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["type"].endswith(":idempotency-key-reused")
        assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await count("notes") == 1


async def test_keys_are_scoped_per_owner(client: httpx.AsyncClient) -> None:
    alice = await api_key("alice") | {"Idempotency-Key": "shared"}
    bob = await api_key("bob") | {"Idempotency-Key": "shared"}
    a = await client.post("/v1/notes", json={"title": "t"}, headers=alice)
    b = await client.post("/v1/notes", json={"title": "t"}, headers=bob)
    assert a.status_code == b.status_code == 201
    assert "idempotent-replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"]


async def test_an_expired_key_is_treated_as_new(client: httpx.AsyncClient) -> None:
    headers = await api_key() | {"Idempotency-Key": "old"}
    first = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
    await sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    second = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
    assert second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert await count("idempotency_keys") == 1


async def test_batch_replays_too(client: httpx.AsyncClient) -> None:
    headers = await api_key() | {"Idempotency-Key": "batch-1"}
    payload = {"notes": [{"title": "a"}, {"title": "b"}]}
    first = await client.post("/v1/notes/batch", json=payload, headers=headers)
    retry = await client.post("/v1/notes/batch", json=payload, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert await count("notes") == 2


@pytest.mark.parametrize("key", [b"", b"x" * 256, "caf\u00e9".encode(), b"tab\there"])
async def test_a_malformed_key_is_422(client: httpx.AsyncClient, key: bytes) -> None:
    headers = [(k.encode(), v.encode()) for k, v in (await api_key()).items()]
    response = await client.post(
        "/v1/notes", json={"title": "t"}, headers=[*headers, (b"Idempotency-Key", key)]
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await count("notes") == 0


async def test_a_key_of_255_printable_characters_is_accepted(client: httpx.AsyncClient) -> None:
    key = ("abc ~!" * 50)[:255]
    headers = await api_key() | {"Idempotency-Key": key}
    assert (await client.post("/v1/notes", json={"title": "t"}, headers=headers)).status_code == 201


async def test_a_duplicate_while_the_first_is_in_flight_is_409(
    client: httpx.AsyncClient, database_url: str
) -> None:
    headers = await api_key("alice") | {"Idempotency-Key": "slow"}
    [owner] = await sql("SELECT id FROM owners WHERE name = 'alice'")
    # Another session holds the key's lock, as the first request's transaction would.
    holder = await asyncpg.connect(database_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", lock_id(owner["id"], "slow"))
        response = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
        assert response.status_code == 409
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"].endswith(":idempotency-in-flight")
        assert await count("notes") == 0
    finally:
        await holder.close()
    after = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
    assert after.status_code == 201
    assert "idempotent-replayed" not in after.headers
