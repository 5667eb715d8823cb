from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest

from tests.support.factories import api_key, count, create_note
from tests.support.pages import pages

CONTENT = ("title", "body", "tags", "pinned", "archived")


def content(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in CONTENT}


async def test_every_change_writes_the_revision_of_its_version(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers, title="v1", tags=["a"])
    url = f"/v1/notes/{note['id']}"
    await client.patch(url, json={"title": "v2", "pinned": True}, headers=headers)
    await client.patch(url, json={}, headers=headers)  # no change: no revision
    await client.delete(url, headers=headers)
    await client.post(f"{url}/restore", headers=headers)
    current = (await client.get(url, headers=headers)).json()
    assert current["version"] == 4

    page = (await client.get(f"{url}/revisions", headers=headers)).json()
    assert page["next_cursor"] is None
    items = page["items"]
    assert [r["version"] for r in items] == [4, 3, 2, 1]
    assert [r["deleted"] for r in items] == [False, True, False, False]
    assert [r["title"] for r in items] == ["v2", "v2", "v2", "v1"]
    assert items[-1]["created_at"] == note["created_at"]
    assert items[0]["created_at"] == current["updated_at"]
    assert content(items[0]) == content(current)
    assert set(items[0]) == {*CONTENT, "version", "deleted", "created_at"}

    one = await client.get(f"{url}/revisions/1", headers=headers)
    assert one.status_code == 200
    assert one.json() == items[-1]


async def test_revisions_page_newest_first_with_a_cursor(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers, body="0")
    url = f"/v1/notes/{note['id']}"
    for i in range(1, 5):
        await client.patch(url, json={"body": str(i)}, headers=headers)

    seen = [
        [r["version"] for r in response.json()["items"]]
        async for response in pages(client, f"{url}/revisions", headers, {"limit": 2})
    ]
    assert seen == [[5, 4], [3, 2], [1]]


async def test_a_bad_cursor_is_400(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    first = await create_note(client, headers)
    second = await create_note(client, headers)
    await client.patch(f"/v1/notes/{first['id']}", json={"body": "x"}, headers=headers)
    page = (await client.get(f"/v1/notes/{first['id']}/revisions?limit=1", headers=headers)).json()
    cursor = page["next_cursor"]
    forged = base64.urlsafe_b64encode(f'["{first["id"]}", 99, "0"]'.encode()).decode()
    for note_id, bad in (
        (first["id"], "garbage!"),
        (first["id"], cursor[:-2]),
        (first["id"], forged),
        (second["id"], cursor),  # a cursor from another note's listing
    ):
        response = await client.get(
            f"/v1/notes/{note_id}/revisions", params={"cursor": bad}, headers=headers
        )
        assert response.status_code == 400, bad
        assert response.json()["type"].endswith(":invalid-cursor")


async def test_unknown_revision_is_404_and_a_bad_number_422(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    url = f"/v1/notes/{note['id']}/revisions"
    assert (await client.get(f"{url}/2", headers=headers)).status_code == 404
    assert (await client.post(f"{url}/2/restore", headers=headers)).status_code == 404
    for bad in ("0", "-1", "x", "99999999999"):
        assert (await client.get(f"{url}/{bad}", headers=headers)).status_code == 422
    assert (
        await client.get(f"/v1/notes/{uuid.uuid4()}/revisions", headers=headers)
    ).status_code == 404


async def test_restoring_a_revision_round_trips(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers, title="first", body="one", tags=["x", "y"])
    url = f"/v1/notes/{note['id']}"
    await client.patch(
        url,
        json={"title": "second", "body": "two", "tags": ["z"], "pinned": True, "archived": True},
        headers=headers,
    )

    response = await client.post(f"{url}/revisions/1/restore", headers=headers)
    assert response.status_code == 200
    restored = response.json()
    assert restored["version"] == 3
    assert content(restored) == content(note)
    assert response.headers["etag"] == (await client.get(url, headers=headers)).headers["etag"]
    latest = (await client.get(f"{url}/revisions/3", headers=headers)).json()
    assert content(latest) == content(note)

    # Forward again to revision 2, then restoring the current state writes nothing.
    forward = (await client.post(f"{url}/revisions/2/restore", headers=headers)).json()
    assert forward["version"] == 4 and forward["tags"] == ["z"] and forward["pinned"] is True
    same = await client.post(f"{url}/revisions/4/restore", headers=headers)
    assert same.json() == forward
    assert await count("revisions") == 4


async def test_a_trashed_note_cannot_restore_a_revision(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    await client.delete(f"/v1/notes/{note['id']}", headers=headers)
    response = await client.post(f"/v1/notes/{note['id']}/revisions/1/restore", headers=headers)
    assert response.status_code == 409
    assert response.json()["type"].endswith(":note-trashed")


@pytest.mark.parametrize("limit", ["0", "101"])
async def test_revision_limit_is_bounded(client: httpx.AsyncClient, limit: str) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    response = await client.get(
        f"/v1/notes/{note['id']}/revisions", params={"limit": limit}, headers=headers
    )
    assert response.status_code == 422
