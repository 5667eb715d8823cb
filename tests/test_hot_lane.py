"""The hot lane (notes_service/web/hot.py) answers exactly what FastAPI answers: each request
here goes once through the lane and once with it turned off, and the two answers must match.
The lane must also really serve the plain forms (and only leave the others to FastAPI)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from notes_service.web.hot import HotLane
from tests.support.factories import api_key, create_note

# What must match besides status and body; the rest (date, request id) differs by nature.
HEADERS = (
    "content-type",
    "content-length",
    "etag",
    "location",
    "link",
    "allow",
    "www-authenticate",
    "cache-control",
    "idempotent-replayed",
)


@dataclass
class Lane:
    """Switches the app's hot lane, and counts the requests it passed on to FastAPI."""

    app: FastAPI
    monkeypatch: pytest.MonkeyPatch
    to_fastapi: int = 0

    def __post_init__(self) -> None:
        if self.app.middleware_stack is None:
            self.app.middleware_stack = self.app.build_middleware_stack()
        layer: Any = self.app.middleware_stack
        while not isinstance(layer, HotLane):
            layer = layer.app
        inner = layer.app

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            self.to_fastapi += 1
            await inner(scope, receive, send)

        self.monkeypatch.setattr(layer, "app", counting)

    def set(self, on: bool) -> None:
        self.monkeypatch.setattr(self.app.state.settings, "hot_lane", on)


@pytest.fixture
def lane(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Lane:
    return Lane(app, monkeypatch)


def _normal(response: httpx.Response, created: bool) -> tuple[int, Any, dict[str, str]]:
    headers = {name: response.headers[name] for name in HEADERS if name in response.headers}
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if "link" in headers:  # a cursor in an updated_at sort holds the time it was made
        headers["link"] = re.sub(r"cursor=[^&>]*", "cursor=", headers["link"])
    if isinstance(body, dict):
        body.pop("request_id", None)
        if body.get("next_cursor"):
            body["next_cursor"] = "made"
        if created and response.status_code == 201:
            # Two creates make two notes: their own id and times, the rest the same.
            for name in ("id", "created_at", "updated_at"):
                body.pop(name, None)
            for name in ("etag", "location", "content-length"):
                headers.pop(name, None)
    return response.status_code, body, headers


async def both_ways(
    client: httpx.AsyncClient,
    lane: Lane,
    method: str,
    url: str,
    *,
    hot: bool,
    second: dict[str, Any] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """The request through the lane, then with it off (with `second`'s changes, for a request
    that must not be the same twice); asserts the answers match, and who answered."""
    lane.set(True)
    before = lane.to_fastapi
    through_lane = await client.request(method, url, **kwargs)
    assert (lane.to_fastapi == before) is hot, (method, url, kwargs)
    lane.set(False)
    through_fastapi = await client.request(method, url, **(kwargs | (second or {})))
    created = method == "POST"
    assert _normal(through_lane, created) == _normal(through_fastapi, created), (method, url)
    return through_lane


async def test_a_note_by_id(client: httpx.AsyncClient, lane: Lane) -> None:
    headers = await api_key("hot-alice")
    note = await create_note(client, headers, title="hot", tags=["b", "a"])
    other = await create_note(client, await api_key("hot-bob"))
    url = f"/v1/notes/{note['id']}"
    etag = (await client.get(url, headers=headers)).headers["etag"]

    assert (await both_ways(client, lane, "GET", url, hot=True, headers=headers)).json() == note
    await both_ways(client, lane, "GET", url + "?ignored=1", hot=True, headers=headers)
    for if_none_match in (etag, f"W/{etag}", "*", '"other"', f'"x", {etag}', "garbage"):
        conditional = headers | {"If-None-Match": if_none_match}
        await both_ways(client, lane, "GET", url, hot=True, headers=conditional)
    assert (await client.get(url, headers=headers | {"If-None-Match": etag})).status_code == 304
    for missing in ("00000000-0000-4000-8000-000000000000", other["id"]):
        response = await both_ways(
            client, lane, "GET", f"/v1/notes/{missing}", hot=True, headers=headers
        )
        assert response.status_code == 404
    for auth in ({}, {"Authorization": "Bearer nsk_" + "x" * 30}, {"Authorization": "Basic x"}):
        response = await both_ways(client, lane, "GET", url, hot=True, headers=auth)
        assert response.status_code == 401
    # Other spellings of an id are FastAPI's to judge.
    for spelling in (note["id"].upper(), note["id"].replace("-", ""), "not-a-uuid", "batch"):
        await both_ways(client, lane, "GET", f"/v1/notes/{spelling}", hot=False, headers=headers)


async def test_a_list_page(client: httpx.AsyncClient, lane: Lane) -> None:
    headers = await api_key("hot-carol")
    for i in range(7):
        await create_note(client, headers, title=f"n{i}", tags=["even" if i % 2 else "odd"])
    first = await both_ways(client, lane, "GET", "/v1/notes?limit=3", hot=True, headers=headers)
    cursor = first.json()["next_cursor"]
    assert cursor is not None and 'rel="next"' in first.headers["link"]

    plain = [
        "",
        "?limit=3&cursor=" + cursor,
        "?limit=2&limit=3",
        "?sort=created_at&limit=2",
        "?pinned=true",
        "?pinned=yes&archived=0&trashed=false",
        "?tag=odd&tag=odd&tag=even",
        "?tag=Odd",
        "?tag=" + "%20" * 3,  # a tag that cleans to nothing: the endpoint's own 422
        "?updated_after=2020-01-01T00:00:00Z",
        "?cursor=garbage",
        "?cursor=" + cursor + "&limit=4",  # another query: the cursor is refused
        "?unknown=1",
    ]
    for query in plain:
        await both_ways(client, lane, "GET", "/v1/notes" + query, hot=True, headers=headers)
    invalid = [
        "?limit=0",
        "?limit=101",
        "?limit=abc",
        "?sort=title",
        "?pinned=maybe",
        "?updated_after=2020-01-01T00:00:00",
        "?" + "&".join(["tag=t"] * 21),
        "?cursor=" + "x" * 1025,
    ]
    for query in invalid:
        response = await both_ways(
            client, lane, "GET", "/v1/notes" + query, hot=False, headers=headers
        )
        assert response.status_code == 422, query
    # An invalid value and no key: FastAPI decides which comes first.
    await both_ways(client, lane, "GET", "/v1/notes?limit=0", hot=False)
    await both_ways(client, lane, "GET", "/v1/notes?limit=5", hot=True)


async def test_a_create(client: httpx.AsyncClient, lane: Lane) -> None:
    headers = await api_key("hot-dave")
    note = {"title": "hot", "body": "text", "tags": ["z", "a"], "pinned": True}
    created = await both_ways(
        client, lane, "POST", "/v1/notes", hot=True, headers=headers, json=note
    )
    assert created.status_code == 201 and created.json()["tags"] == ["a", "z"]
    charset = headers | {"Content-Type": "application/json; charset=utf-8"}
    await both_ways(
        client, lane, "POST", "/v1/notes", hot=True, headers=charset, content=b'{"title":"t"}'
    )
    await both_ways(client, lane, "POST", "/v1/notes", hot=True, json=note)  # no key: 401

    # The same Idempotency-Key twice is a replay: each way gets a key of its own.
    first, second = headers | {"Idempotency-Key": "k-1"}, headers | {"Idempotency-Key": "k-2"}
    for _ in range(2):
        response = await both_ways(
            client, lane, "POST", "/v1/notes", hot=True, headers=first, json=note,
            second={"headers": second},
        )  # fmt: skip
    assert response.headers["idempotent-replayed"] == "true"

    json_type = {"Content-Type": "application/json"}
    for body, extra in [
        (b"", json_type),
        (b'{"title":', json_type),
        (b"NaN", json_type),
        (b'{"title":"t","tags":["' + b"x" * 300 + b'"]}', json_type),
        (b'{"body":"no title"}', json_type),
        (b'{"title":"t","extra":1}', json_type),
        (b'{"title":"t"}', {"Content-Type": "text/plain"}),
        (b'{"title":"t"}', {"Content-Type": "application/merge-patch+json"}),
        (b'{"title":"t"}', {"Idempotency-Key": "bad\tkey"} | json_type),
        (b'{"title":"t"}', {"Idempotency-Key": "k" * 256} | json_type),
    ]:
        await both_ways(
            client, lane, "POST", "/v1/notes", hot=False, headers=headers | extra, content=body
        )


async def test_a_search(client: httpx.AsyncClient, lane: Lane) -> None:
    headers = await api_key("hot-erin")
    for i in range(5):
        await create_note(client, headers, title=f"garden plan {i}", body="tomato " * i, tags=["g"])
    first = await both_ways(
        client, lane, "GET", "/v1/search?q=garden&limit=2", hot=True, headers=headers
    )
    cursor = first.json()["next_cursor"]
    assert cursor is not None and len(first.json()["items"]) == 2
    plain = [
        "?q=garden&limit=2&cursor=" + cursor,
        "?q=tomato",
        "?q=gardn",  # no word matches: the trigram fallback
        "?q=garden&fuzzy=true",
        "?q=garden&tag=g&tag=G",
        "?q=garden&tag=nothing",
        "?q=%00garden",  # the endpoint's own 422
        "?q=%20%20",
        "?q=garden&cursor=garbage",
    ]
    for query in plain:
        await both_ways(client, lane, "GET", "/v1/search" + query, hot=True, headers=headers)
    for query in ["", "?q=", "?q=" + "a" * 501, "?q=garden&limit=0", "?q=garden&fuzzy=maybe"]:
        response = await both_ways(
            client, lane, "GET", "/v1/search" + query, hot=False, headers=headers
        )
        assert response.status_code == 422, query
