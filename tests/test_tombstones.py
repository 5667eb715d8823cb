"""Tombstones belong to their owner: another owner's import or deletion of the same id never
changes your change feed or your deletes, and an id that was ever deleted is not reused."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.factories import api_key, create_note, sql
from tests.support.pages import read_feed


async def _import(
    client: httpx.AsyncClient, headers: dict[str, str], *lines: dict[str, Any]
) -> httpx.Response:
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    return await client.post("/v1/import", content=body, headers=headers)


async def _purge(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> int:
    response = await client.delete(url, params={"permanent": "true"}, headers=headers)
    return response.status_code


async def test_another_owner_cannot_erase_your_deletion(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    note = await create_note(client, alice, title="alice's")
    url = f"/v1/notes/{note['id']}"
    assert await _purge(client, url, alice) == 204
    before, _ = await read_feed(client, alice)
    assert [(c["id"], c["op"]) for c in before] == [(note["id"], "delete")]

    imported = await _import(client, bob, {"id": note["id"], "title": "bob's"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 1
    [bobs] = (await client.get("/v1/notes", headers=bob)).json()["items"]
    assert bobs["id"] != note["id"]  # the id is taken: a new one was minted
    bob_url = f"/v1/notes/{bobs['id']}"
    assert await _purge(client, bob_url, bob) == 204

    after, _ = await read_feed(client, alice)
    assert after == before
    assert await _purge(client, url, alice) == 204
    bob_feed, _ = await read_feed(client, bob)
    assert [(c["id"], c["op"]) for c in bob_feed] == [(bobs["id"], "delete")]


async def test_a_deleted_id_is_not_reused_by_its_own_owner_either(
    client: httpx.AsyncClient,
) -> None:
    alice = await api_key("alice")
    note = await create_note(client, alice)
    url = f"/v1/notes/{note['id']}"
    await client.delete(url, params={"permanent": "true"}, headers=alice)
    response = await _import(client, alice, {"id": note["id"], "title": "back"})
    assert response.json()["created"] == 1
    assert (await client.get(url, headers=alice)).status_code == 404
    tombstones = await sql("SELECT id FROM tombstones")
    assert [str(row["id"]) for row in tombstones] == [note["id"]]


async def test_the_feed_shows_only_your_own_tombstones(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    mine = await create_note(client, alice, title="mine")
    theirs = await create_note(client, bob, title="theirs")
    await client.delete(f"/v1/notes/{theirs['id']}", params={"permanent": "true"}, headers=bob)
    await client.delete("/v1/trash", headers=bob)
    changes, _ = await read_feed(client, alice)
    assert [(c["id"], c["op"]) for c in changes] == [(mine["id"], "create")]
    bob_changes, _ = await read_feed(client, bob)
    assert [(c["id"], c["op"]) for c in bob_changes] == [(theirs["id"], "delete")]


async def test_anothers_tombstone_does_not_make_a_permanent_delete_succeed(
    client: httpx.AsyncClient,
) -> None:
    """A retried permanent DELETE of your own deleted note is a 204; of an id someone else
    deleted, a 404, as for any id that is not yours."""
    alice, bob = await api_key("alice"), await api_key("bob")
    note = await create_note(client, alice)
    url = f"/v1/notes/{note['id']}"
    assert await _purge(client, url, alice) == 204
    assert await _purge(client, url, bob) == 404
    assert await _purge(client, url, alice) == 204
