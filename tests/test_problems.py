from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.support.factories import api_key, create_note

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def failing_routes(app: FastAPI) -> None:
    async def crash() -> None:
        raise RuntimeError("secret detail: password=hunter2 SELECT * FROM api_keys")

    async def outage() -> None:
        raise asyncpg.exceptions.CannotConnectNowError("the database system is starting up")

    app.add_api_route("/_test/crash", crash)
    app.add_api_route("/_test/outage", outage)


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith(":not-found")


async def test_wrong_method_is_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/notes", headers=await api_key())
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "GET, HEAD, POST"


async def test_oversized_body_is_413_and_writes_nothing(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    body = {"title": "big", "body": "x" * 1_100_000}
    response = await client.post("/v1/notes", json=body, headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith(":payload-too-large")
    assert problem["request_id"] == response.headers["x-request-id"]
    assert (await client.get("/v1/notes", headers=headers)).json()["items"] == []


async def test_oversized_chunked_body_is_413(client: httpx.AsyncClient) -> None:
    headers = await api_key() | {"content-type": "application/json"}

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "big", "body": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    response = await client.post("/v1/notes", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_request_id_is_echoed_when_well_formed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc.DEF-123_x"})
    assert response.headers["x-request-id"] == "abc.DEF-123_x"


@pytest.mark.parametrize("sent", ["", "has space", "x" * 129, "semi;colon", "üñí"])
async def test_malformed_request_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/v1/notes/nope", headers=[(b"X-Request-ID", sent.encode("utf-8"))])
    generated = response.headers["x-request-id"]
    assert generated != sent
    assert len(generated) == 32
    assert response.json()["request_id"] == generated


async def test_problem_bodies_carry_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/notes", headers={"X-Request-ID": "trace-1"})
    assert response.status_code == 401
    assert response.json()["request_id"] == "trace-1"


@pytest.mark.usefixtures("failing_routes")
async def test_unexpected_error_is_a_generic_500_that_leaks_nothing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/_test/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    text = response.text
    assert "hunter2" not in text and "SELECT" not in text and "RuntimeError" not in text
    assert response.json()["type"].endswith(":internal")


@pytest.mark.usefixtures("failing_routes")
async def test_database_outage_is_503_with_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/_test/outage")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    assert "starting up" not in response.text


async def test_problem_shape_is_complete(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    response = await client.patch(f"/v1/notes/{note['id']}", json={"x": 1}, headers=headers)
    problem = response.json()
    assert set(problem) == {"type", "title", "status", "detail", "request_id", "errors"}
    assert problem["errors"] == [{"loc": ["body", "x"], "msg": "Extra inputs are not permitted"}]


async def test_healthz_answers_without_auth(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
