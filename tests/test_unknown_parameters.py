"""Unknown query parameters get 400 `unknown-parameter` naming each one (SPEC §8), on every
route (the list is generated from the OpenAPI document), in the hot lane as in FastAPI."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.support.factories import api_key, create_note

PROBLEM = "application/problem+json"
UNKNOWN = "urn:notes-service:problem:unknown-parameter"


async def test_a_misspelt_delete_flag_is_refused_and_the_note_is_untouched(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    url = f"/v1/notes/{note['id']}"
    response = await client.delete(url + "?permanently=true", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == UNKNOWN
    assert "`permanently`" in problem["detail"] and "`permanent`" in problem["detail"]
    assert problem["errors"] == [{"loc": ["query", "permanently"], "msg": "unknown parameter"}]
    kept = await client.get(url, headers=headers)
    assert kept.status_code == 200 and kept.json()["deleted_at"] is None
    assert (await client.delete(url + "?permanent=true", headers=headers)).status_code == 204


@pytest.mark.parametrize("hot_lane", [True, False])
async def test_each_unknown_list_parameter_is_named_in_both_lanes(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch, hot_lane: bool
) -> None:
    monkeypatch.setattr(app.state.settings, "hot_lane", hot_lane)
    headers = await api_key()
    await create_note(client, headers, tags=["home"])
    response = await client.get("/v1/notes?tags=work&limt=5&tag=home", headers=headers)
    assert response.status_code == 400
    assert response.json()["type"] == UNKNOWN
    named = [error["loc"][1] for error in response.json()["errors"]]
    assert named == ["tags", "limt"]
    for path in ("/v1/search?q=x&fuzzzy=true", "/v1/notes/{id}?expand=tags"):
        path = path.replace("{id}", str(uuid.uuid4()))
        assert (await client.get(path, headers=headers)).json()["type"] == UNKNOWN, path
    create = await client.post("/v1/notes?draft=1", json={"title": "x"}, headers=headers)
    assert create.status_code == 400 and create.json()["type"] == UNKNOWN
    assert (await client.get("/v1/notes?tag=home&limit=5", headers=headers)).status_code == 200


async def test_every_route_refuses_an_unknown_parameter(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    spec = (await client.get("/openapi.json")).json()
    requests = [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path).replace("/1", f"/{uuid.uuid4()}", 1))
        for path, item in spec["paths"].items()
        for method in item
    ]
    requests += [("GET", "/openapi.json"), ("GET", "/docs")]
    assert len(requests) > 20
    for method, path in requests:
        response = await client.request(method, path + "?bogus_flag=1", headers=headers)
        assert response.status_code == 400, (method, path, response.text)
        assert response.json()["type"] == UNKNOWN, (method, path)
        assert "`bogus_flag`" in response.json()["detail"]


async def test_a_stream_token_anywhere_but_the_stream_is_a_401(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    response = await client.get("/v1/notes?access_token=nst_x", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "GET /v1/changes/stream" in response.json()["detail"]
