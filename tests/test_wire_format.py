"""The read routes' bodies, byte for byte: each one must be exactly what the route's declared
response model serialises to, so moving JSON building between Python and SQL changes nothing a
client can see (timestamps, floats, escaping, key order, whitespace)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import TypeAdapter

from notes_service.contract import NotePage
from notes_service.queries.changes import ChangePage
from notes_service.queries.search import SearchPage
from notes_service.queries.summaries import Stats, TagCount
from tests.support.factories import api_key, create_note, sql

# Every C0 control a body may hold, quotes, backslashes, HTML, the snippet's private-use marker
# characters, astral and combining characters, U+2028, DEL and C1 controls.
HOSTILE_BODY = (
    "".join(chr(c) for c in range(1, 32))
    + ' "quoted" \\back\\slash\\ </script><b onclick="x">&amp; \'single\' '
    + "\ue000fake mark\ue001 \U0001f600 e\u0301 \u2028 \u2029 \x7f \x85 \x9f ünïcödé wireword"
)
TAGS = ["zeta", "émoji-😀", "alpha", "ä", "z"]


async def _corpus(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await api_key()
    first = await create_note(
        client, headers, title='Wire "title" <b>&</b> wireword', body=HOSTILE_BODY, tags=TAGS
    )
    second = await create_note(client, headers, title="wireword plain", body="wireword " * 40)
    third = await create_note(client, headers, title="wireword trashed", pinned=True)
    await client.patch(
        f"/v1/notes/{second['id']}", json={"archived": True, "body": "x"}, headers=headers
    )
    await client.delete(f"/v1/notes/{third['id']}", headers=headers)
    # Whole seconds and a few microseconds: both are printed differently.
    await sql(
        "UPDATE notes SET created_at = $1 WHERE id = $2",
        datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        first["id"],
    )
    await sql(
        "UPDATE notes SET updated_at = $1 WHERE id = $2",
        datetime(2026, 3, 4, 5, 6, 8, 120, tzinfo=UTC),
        first["id"],
    )
    for i in range(4):
        await create_note(client, headers, title=f"wireword filler {i}", body="wireword " * i)
    return headers


async def _body(client: httpx.AsyncClient, headers: dict[str, str], url: str, **params: Any) -> str:
    response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.text


def _assert_canonical(adapter: TypeAdapter[Any], body: str) -> None:
    assert adapter.dump_json(adapter.validate_json(body)).decode() == body


async def test_every_read_body_is_its_models_own_serialisation(client: httpx.AsyncClient) -> None:
    headers = await _corpus(client)
    pages = TypeAdapter(NotePage)
    list_params: tuple[dict[str, Any], ...] = (
        {},
        {"limit": 2},
        {"archived": "true"},
        {"trashed": "true"},
        {"tag": "alpha", "sort": "created_at"},
    )
    for params in list_params:
        body = await _body(client, headers, "/v1/notes", **params)
        _assert_canonical(pages, body)
    listed = pages.validate_json(await _body(client, headers, "/v1/notes"))
    hostile = next(note for note in listed.items if note.body == HOSTILE_BODY)
    assert hostile.tags == sorted(TAGS)
    assert hostile.created_at == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)

    hits = TypeAdapter(SearchPage)
    search_params: tuple[dict[str, Any], ...] = (
        {"q": "wireword"},
        {"q": "wireword", "limit": 2},
        {"q": "wirewrd", "fuzzy": "true"},
        {"q": '"wire title" or fake -plain'},
        {"q": "zzzznothing"},
    )
    for query in search_params:
        _assert_canonical(hits, await _body(client, headers, "/v1/search", **query))

    _assert_canonical(TypeAdapter(list[TagCount]), await _body(client, headers, "/v1/tags"))
    _assert_canonical(TypeAdapter(Stats), await _body(client, headers, "/v1/stats"))
    changes = TypeAdapter(ChangePage)
    for params in ({}, {"limit": 2}):
        _assert_canonical(changes, await _body(client, headers, "/v1/changes", **params))


async def test_empty_owner_bodies_are_canonical(client: httpx.AsyncClient) -> None:
    headers = await api_key("nobody")
    _assert_canonical(TypeAdapter(NotePage), await _body(client, headers, "/v1/notes"))
    _assert_canonical(TypeAdapter(SearchPage), await _body(client, headers, "/v1/search", q="x"))
    _assert_canonical(TypeAdapter(list[TagCount]), await _body(client, headers, "/v1/tags"))
    _assert_canonical(TypeAdapter(Stats), await _body(client, headers, "/v1/stats"))
    _assert_canonical(TypeAdapter(ChangePage), await _body(client, headers, "/v1/changes"))
