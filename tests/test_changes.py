from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise import connections

from notes_service.cursors import CursorCodec, feed_binding
from notes_service.platform.settings import Settings
from tests.support.factories import api_key, create_note
from tests.support.pages import read_feed


def connect(database_url: str) -> Any:
    """A writer of its own; no prepared statements, which PgBouncer's transaction mode (this
    module is in the `pgbouncer` subset) cannot keep."""
    return asyncpg.connect(database_url, statement_cache_size=0)


# Every test here runs while another database on the server keeps a write transaction open.
pytestmark = pytest.mark.usefixtures("unrelated_transaction")


async def test_each_kind_of_change_is_reported(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers, title="first", tags=["a"])
    url = f"/v1/notes/{note['id']}"
    seen: list[tuple[str, int]] = []
    cursor = None

    async def step() -> dict[str, Any]:
        nonlocal cursor
        changes, cursor = await read_feed(client, headers, cursor)
        assert len(changes) == 1
        seen.append((changes[0]["op"], changes[0]["version"]))
        return changes[0]

    created = await step()
    assert created["note"]["title"] == "first" and created["note"]["tags"] == ["a"]
    await client.patch(url, json={"title": "second"}, headers=headers)
    assert (await step())["note"]["title"] == "second"
    await client.delete(url, headers=headers)
    assert (await step())["note"]["deleted_at"] is not None
    await client.post(f"{url}/restore", headers=headers)
    await step()
    await client.delete(url, params={"permanent": "true"}, headers=headers)
    gone = await step()
    assert gone["note"] is None and gone["id"] == note["id"]
    assert seen == [("create", 1), ("update", 2), ("trash", 3), ("restore", 4), ("delete", 5)]
    assert (await read_feed(client, headers, cursor))[0] == []


async def test_an_empty_feed_still_returns_a_cursor(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    changes, cursor = await read_feed(client, headers)
    assert changes == []
    await create_note(client, headers, title="later")
    changes, _ = await read_feed(client, headers, cursor)
    assert [c["note"]["title"] for c in changes] == ["later"]


async def test_replaying_the_feed_reproduces_the_current_notes(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    rng = random.Random(7)
    ids: list[str] = []
    replica: dict[str, dict[str, Any] | None] = {}
    cursor = None
    for step in range(60):
        action = rng.choice(["create", "create", "patch", "trash", "restore", "purge"])
        if action == "create" or not ids:
            ids.append((await create_note(client, headers, title=f"n{step}"))["id"])
        else:
            url = f"/v1/notes/{rng.choice(ids)}"
            if action == "patch":
                await client.patch(
                    url, json={"body": f"b{step}", "tags": [f"t{step % 3}"]}, headers=headers
                )
            elif action == "trash":
                await client.delete(url, headers=headers)
            elif action == "restore":
                await client.post(f"{url}/restore", headers=headers)
            else:
                await client.delete(url, params={"permanent": "true"}, headers=headers)
        if step % 9 == 0:  # a client syncing now and then, resuming from its cursor
            changes, cursor = await read_feed(client, headers, cursor, limit=4)
            for change in changes:
                replica[change["id"]] = change["note"]
    changes, cursor = await read_feed(client, headers, cursor, limit=4)
    for change in changes:
        replica[change["id"]] = change["note"]

    current = {}
    for note_id in ids:
        response = await client.get(f"/v1/notes/{note_id}", headers=headers)
        current[note_id] = response.json() if response.status_code == 200 else None
    assert {k: v for k, v in replica.items() if v is not None} == {
        k: v for k, v in current.items() if v is not None
    }
    assert {k for k, v in replica.items() if v is None} == {
        k for k, v in current.items() if v is None
    }

    from_scratch, _ = await read_feed(client, headers, None, limit=7)
    rebuilt: dict[str, dict[str, Any] | None] = {}
    for change in from_scratch:
        rebuilt[change["id"]] = change["note"]
    assert rebuilt == replica


async def test_a_change_is_served_once_committed_and_never_passed_by_a_later_commit(
    client: httpx.AsyncClient, database_url: str
) -> None:
    headers = await api_key()
    first = await create_note(client, headers, title="first")
    second = await create_note(client, headers, title="second")
    _, cursor = await read_feed(client, headers)

    conn_a, conn_b = await connect(database_url), await connect(database_url)
    try:
        tx_a, tx_b = conn_a.transaction(), conn_b.transaction()
        await tx_a.start()
        await conn_a.execute(
            "UPDATE notes SET title = 'by A', version = version + 1 WHERE id = $1",
            first["id"],
        )  # A writes first ...
        await tx_b.start()
        await conn_b.execute(
            "UPDATE notes SET title = 'by B', version = version + 1 WHERE id = $1",
            second["id"],
        )
        await tx_b.commit()  # ... but B commits first.

        between, cursor_between = await read_feed(client, headers, cursor)
        assert [c["note"]["title"] for c in between] == ["by B"]  # A, still open, holds nothing
        await tx_a.commit()
    finally:
        await conn_a.close()
        await conn_b.close()

    after, _ = await read_feed(client, headers, cursor_between)
    assert [c["note"]["title"] for c in after] == ["by A"]  # after B's position, not skipped


async def test_concurrent_writers_committing_out_of_order_are_walked_without_gaps_or_repeats(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """16 writers of one owner hold their transactions open for random times, so they commit in
    another order than they wrote; a client syncs all along. Each version it sees is new, and
    what it ends with is every note as it is."""
    headers = await api_key()
    notes = [(await create_note(client, headers, title=f"w{i}"))["id"] for i in range(16)]
    _, cursor = await read_feed(client, headers)
    rng = random.Random(18)
    rounds = 12

    async def writer(note_id: str, delays: list[float]) -> None:
        conn = await connect(database_url)
        try:
            for delay in delays:
                async with conn.transaction():
                    await conn.execute(
                        "UPDATE notes SET version = version + 1, title = 'v' || version + 1 "
                        "WHERE id = $1",
                        note_id,
                    )
                    await asyncio.sleep(delay)
        finally:
            await conn.close()

    writers = asyncio.gather(
        *(writer(n, [rng.uniform(0, 0.02) for _ in range(rounds)]) for n in notes)
    )
    seen: dict[str, int] = {}

    def take(changes: list[dict[str, Any]]) -> None:
        for change in changes:
            assert change["version"] > seen.get(change["id"], 0), change  # never twice
            seen[change["id"]] = change["version"]

    while not writers.done():
        changes, cursor = await read_feed(client, headers, cursor, limit=5)
        take(changes)
        await asyncio.sleep(0.005)
    await writers
    changes, _ = await read_feed(client, headers, cursor, limit=5)
    take(changes)
    assert seen == {n: 1 + rounds for n in notes}  # nothing passed over


async def test_a_cursor_of_the_old_format_is_expired_not_invalid(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await api_key("old-client")
    await create_note(client, headers, title="kept")
    [owner] = await connections.get("default").execute_query_dict(
        "SELECT id FROM owners WHERE name = 'old-client'"
    )
    codec = CursorCodec(settings.cursor_secret.get_secret_value())
    old = codec.encode(feed_binding(codec, owner["id"]), ["812", 3])  # (xid, seq): before v3
    for path in ("/v1/changes", "/v1/changes/stream"):
        response = await client.get(path, params={"cursor": old}, headers=headers)
        assert response.status_code == 410, response.text
        assert response.json()["type"] == "urn:notes-service:problem:cursor-expired"
        assert "from the start" in response.json()["detail"]
    changes, _ = await read_feed(client, headers)  # resync from the start: everything is there
    assert [c["note"]["title"] for c in changes] == ["kept"]


async def test_the_feed_is_per_owner_and_its_cursor_too(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    await create_note(client, alice, title="alice's")
    assert (await read_feed(client, bob))[0] == []
    _, alice_cursor = await read_feed(client, alice)
    response = await client.get("/v1/changes", params={"cursor": alice_cursor}, headers=bob)
    assert response.status_code == 400
    assert response.json()["type"].endswith(":invalid-cursor")
