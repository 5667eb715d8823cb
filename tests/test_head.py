"""HEAD on every GET route (SPEC §8, RFC 9110 §9.3.2): the GET's status and headers, no body."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.support.factories import api_key, create_note

# What differs between two answers by nature.
_VARYING = {"date", "x-request-id"}


def _same_headers(get: httpx.Response, head: httpx.Response) -> None:
    left = {k: v for k, v in get.headers.items() if k not in _VARYING}
    right = {k: v for k, v in head.headers.items() if k not in _VARYING}
    assert left == right


@pytest.mark.parametrize("hot_lane", [True, False])
async def test_head_answers_every_get_route_like_the_get(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch, hot_lane: bool
) -> None:
    monkeypatch.setattr(app.state.settings, "hot_lane", hot_lane)
    headers = await api_key()
    note = await create_note(client, headers, tags=["home"])
    await client.patch(f"/v1/notes/{note['id']}", json={"body": "b"}, headers=headers)
    spec = (await client.get("/openapi.json")).json()
    # Not the routes other test modules add to the shared app (/_test/...).
    paths = [p for p, item in spec["paths"].items() if "get" in item and not p.startswith("/_")]
    hook = await client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=headers
    )
    assert hook.status_code == 201, hook.text
    values = {"note_id": note["id"], "version": "1", "webhook_id": hook.json()["id"]}
    checked = 0
    for template in paths:
        if template == "/v1/changes/stream":
            continue  # endless: below
        path = re.sub(r"\{(\w+)\}", lambda m: values[m[1]], template)
        path += "?q=note" if template == "/v1/search" else ""
        get = await client.get(path, headers=headers)
        head = await client.head(path, headers=headers)
        assert head.status_code == get.status_code == 200, (path, get.text)
        assert head.content == b"", path
        if template != "/metrics":  # its counters move between the two requests
            _same_headers(get, head)
        checked += 1
    assert checked >= 12
    for path in ("/openapi.json", "/docs", f"/v1/notes/{uuid.uuid4()}"):
        get, head = (
            await client.get(path, headers=headers),
            await client.head(path, headers=headers),
        )
        assert head.status_code == get.status_code and head.content == b"", path
        _same_headers(get, head)


async def test_head_on_the_change_stream_ends_after_the_headers(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    head = await client.head("/v1/changes/stream", headers=headers)
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/event-stream")
    assert head.content == b""


async def test_head_is_not_a_new_operation_in_the_document(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert all("head" not in item for item in spec["paths"].values())
    # A route without GET still says which methods it takes.
    response = await client.head("/v1/import")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
