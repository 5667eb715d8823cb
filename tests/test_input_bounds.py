"""Input that once reached the driver and came back as a 500: lone surrogates and control
characters in titles and tags, datetimes that overflow in UTC, forged cursors whose numbers
overflow PostgreSQL's types. Each gets a 4xx problem naming what is wrong, and writes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from notes_service.cursors import CursorCodec
from notes_service.platform.settings import Settings
from tests.support.factories import count, create_note, owner_with_key

SURROGATE = "a\\ud800b"  # a JSON escape: the parsed string holds a lone UTF-16 surrogate
CONTROLS = ["a\x00b", "a\x07b", "a\x1bb", "a\x7fb", "a\x85b", "a\x9fb", "a\nb"]


def _json(text: str) -> bytes:
    return text.encode()


async def _post_raw(
    client: httpx.AsyncClient, path: str, body: str, headers: dict[str, str], method: str = "POST"
) -> httpx.Response:
    return await client.request(
        method,
        path,
        content=_json(body),
        headers=headers | {"Content-Type": "application/json"},
    )


def _assert_422_naming(response: httpx.Response, *loc: Any) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    locs = [error["loc"] for error in response.json()["errors"]]
    assert any(found[: len(loc)] == list(loc) for found in locs), locs


@pytest.mark.parametrize(
    ("path", "body", "loc", "extra_headers"),
    [
        ("/v1/notes", f'{{"title": "{SURROGATE}"}}', ("body", "title"), {}),
        ("/v1/notes", f'{{"title": "t", "tags": ["{SURROGATE}"]}}', ("body", "tags", 0), {}),
        ("/v1/notes/batch", f'{{"notes": [{{"title": "{SURROGATE}"}}]}}', ("body", "notes", 0), {}),
        ("/v1/notes", f'{{"title": "{SURROGATE}"}}', ("body", "title"), {"Idempotency-Key": "k1"}),
        (
            "/v1/notes/batch",
            f'{{"notes": [{{"title": "ok", "tags": ["{SURROGATE}"]}}]}}',
            ("body", "notes", 0, "tags", 0),
            {"Idempotency-Key": "k2"},
        ),
    ],
)
async def test_a_lone_surrogate_in_a_title_or_tag_is_a_422_naming_it(
    client: httpx.AsyncClient,
    path: str,
    body: str,
    loc: tuple[Any, ...],
    extra_headers: dict[str, str],
) -> None:
    _, headers = await owner_with_key()
    response = await _post_raw(client, path, body, headers | extra_headers)
    _assert_422_naming(response, *loc)
    assert await count("notes") == 0


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (f'{{"title": "{SURROGATE}"}}', ("body", "title")),
        (f'{{"tags": ["ok", "{SURROGATE}"]}}', ("body", "tags", 1)),
    ],
)
async def test_a_lone_surrogate_in_a_patch_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, body: str, loc: tuple[Any, ...]
) -> None:
    _, headers = await owner_with_key()
    note = await create_note(client, headers, title="kept", tags=["k"])
    response = await _post_raw(client, f"/v1/notes/{note['id']}", body, headers, method="PATCH")
    _assert_422_naming(response, *loc)
    after = (await client.get(f"/v1/notes/{note['id']}", headers=headers)).json()
    assert (after["title"], after["tags"], after["version"]) == ("kept", ["k"], 1)


@pytest.mark.parametrize("text", CONTROLS)
async def test_control_characters_in_titles_and_tags_are_refused(
    client: httpx.AsyncClient, text: str
) -> None:
    _, headers = await owner_with_key()
    title = await client.post("/v1/notes", json={"title": text}, headers=headers)
    _assert_422_naming(title, "body", "title")
    tag = await client.post("/v1/notes", json={"title": "t", "tags": [text]}, headers=headers)
    _assert_422_naming(tag, "body", "tags", 0)
    assert await count("notes") == 0


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+01:00"]
)
async def test_an_updated_after_that_overflows_in_utc_is_a_422(
    client: httpx.AsyncClient, value: str
) -> None:
    _, headers = await owner_with_key()
    response = await client.get("/v1/notes", params={"updated_after": value}, headers=headers)
    _assert_422_naming(response, "query", "updated_after")


@pytest.mark.parametrize("field", ["created_at", "updated_at", "deleted_at"])
@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-14:00",  # overflows in UTC
        "0001-01-01T00:00:00+14:00",  # overflows in UTC
        "0001-01-01T00:00:00Z",  # representable, not a sane time for a note
        "1969-12-31T23:59:59Z",
        "2999-01-01T00:00:00Z",
    ],
)
async def test_imported_timestamps_must_be_sane(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    _, headers = await owner_with_key()
    line = {"title": "t", "created_at": "2020-01-01T00:00:00Z"} | {field: value}
    response = await client.post("/v1/import", content=json.dumps(line).encode(), headers=headers)
    _assert_422_naming(response, "body", 1, field)
    assert await count("notes") == 0


async def test_an_import_updated_before_it_was_created_is_refused(
    client: httpx.AsyncClient,
) -> None:
    _, headers = await owner_with_key()
    line = {"title": "t", "created_at": "2020-01-02T00:00:00Z", "updated_at": "2020-01-01T00:00Z"}
    response = await client.post("/v1/import", content=json.dumps(line).encode(), headers=headers)
    _assert_422_naming(response, "body", 1, "updated_at")


async def test_imported_timestamps_in_range_are_kept(client: httpx.AsyncClient) -> None:
    _, headers = await owner_with_key()
    line = {
        "title": "t",
        "created_at": "1970-01-01T00:00:00Z",
        "updated_at": "2000-01-01T02:00:00+02:00",
    }
    response = await client.post("/v1/import", content=json.dumps(line).encode(), headers=headers)
    assert response.status_code == 200, response.text
    [note] = (await client.get("/v1/notes", headers=headers)).json()["items"]
    assert (note["created_at"], note["updated_at"]) == (
        "1970-01-01T00:00:00Z",
        "2000-01-01T00:00:00Z",
    )


NOTE_ID = "00000000-0000-4000-8000-000000000001"


def _forged(settings: Settings, position: list[Any], **binding: Any) -> str:
    codec = CursorCodec(settings.cursor_secret.get_secret_value())
    return codec.encode(codec.binding(**binding), position)


@pytest.mark.parametrize(
    "position",
    [
        [0, 2**63],  # (tick, seq): both bigint
        [2**63, 0],
        [0, -1],
        [-1, 0],
        [0, 1.5],
        [True, 0],
        [1, 2, 3],
        # Not even the feed's first format, (xid8 as text, seq), which gets 410 instead:
        ["0", 2**63],
        [str(2**64), 0],
        ["\u00b2", 0],  # a digit to str.isdigit(), not to PostgreSQL
    ],
)
async def test_a_change_feed_cursor_beyond_the_column_types_is_invalid(
    client: httpx.AsyncClient, settings: Settings, position: list[Any]
) -> None:
    owner_id, headers = await owner_with_key()
    cursor = _forged(settings, position, route="changes", owner=owner_id)
    response = await client.get("/v1/changes", params={"cursor": cursor}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith(":invalid-cursor")


@pytest.mark.parametrize(
    "position",
    [
        ["0001-01-01T00:00:00+14:00", NOTE_ID, None],
        ["9999-12-31T23:59:59-14:00", NOTE_ID, None],
        ["2026-01-01T00:00:00", NOTE_ID, None],  # naive
        ["2026-01-01T00:00:00Z", NOTE_ID, "0001-01-01T00:00:00+14:00"],
        ["2026-01-01T00:00:00Z", NOTE_ID, 5],
    ],
)
async def test_a_list_cursor_with_an_unusable_time_is_invalid(
    client: httpx.AsyncClient, settings: Settings, position: list[Any]
) -> None:
    from notes_service.queries.repository import NoteFilter

    owner_id, headers = await owner_with_key()
    binding = {"route": "notes", "owner": owner_id, "sort": "-updated_at", "filters": NoteFilter()}
    cursor = _forged(settings, position, **binding)
    response = await client.get("/v1/notes", params={"cursor": cursor}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith(":invalid-cursor")


@pytest.mark.parametrize("rank", [float("nan"), float("inf"), "1", True])
async def test_a_search_cursor_with_an_unusable_rank_is_invalid(
    client: httpx.AsyncClient, settings: Settings, rank: Any
) -> None:
    owner_id, headers = await owner_with_key()
    binding = {"route": "search", "owner": owner_id, "q": "x", "tags": (), "fuzzy": False}
    cursor = _forged(settings, ["fts", rank, NOTE_ID], **binding)
    response = await client.get("/v1/search", params={"q": "x", "cursor": cursor}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith(":invalid-cursor")


@pytest.mark.parametrize("version", [2**31, 2**63, 0, "1"])
async def test_a_revisions_cursor_beyond_int4_is_invalid(
    client: httpx.AsyncClient, settings: Settings, version: Any
) -> None:
    _, headers = await owner_with_key()
    note = await create_note(client, headers)
    codec = CursorCodec(settings.cursor_secret.get_secret_value())
    cursor = codec.encode(codec.binding(route="revisions", note=note["id"]), [version])
    response = await client.get(
        f"/v1/notes/{note['id']}/revisions", params={"cursor": cursor}, headers=headers
    )
    assert response.status_code == 400, response.text
    assert uuid.UUID(note["id"])
