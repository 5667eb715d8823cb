from __future__ import annotations

import httpx

from tests.support.cli import run_cli
from tests.support.factories import api_key, count, create_note, sql


async def test_restore_takes_a_note_out_of_the_trash(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers, tags=["keep"])
    url = f"/v1/notes/{note['id']}"
    await client.delete(url, headers=headers)
    response = await client.post(f"{url}/restore", headers=headers)
    assert response.status_code == 200
    restored = response.json()
    assert restored["deleted_at"] is None
    assert restored["version"] == 3
    assert restored["tags"] == ["keep"]
    titles = [n["id"] for n in (await client.get("/v1/notes", headers=headers)).json()["items"]]
    assert titles == [note["id"]]

    again = await client.post(f"{url}/restore", headers=headers)
    assert again.status_code == 200
    assert again.json() == restored


async def test_permanent_delete_removes_note_links_and_revisions(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    note = await create_note(client, headers, tags=["a", "b"])
    other = await create_note(client, headers, tags=["a"])
    url = f"/v1/notes/{note['id']}"
    await client.patch(url, json={"body": "v2"}, headers=headers)

    response = await client.delete(f"{url}?permanent=true", headers=headers)
    assert response.status_code == 204
    assert (await client.get(url, headers=headers)).status_code == 404
    assert (await client.get(f"{url}/revisions", headers=headers)).status_code == 404
    remaining = await sql("SELECT note_id FROM revisions")
    assert [str(r["note_id"]) for r in remaining] == [other["id"]]
    links = await sql("SELECT note_id FROM note_tags")
    assert [str(r["note_id"]) for r in links] == [other["id"]]
    tombstones = await sql("SELECT id, version, deleted_at FROM tombstones")
    assert [(str(t["id"]), t["version"]) for t in tombstones] == [(note["id"], 3)]
    assert tombstones[0]["deleted_at"] is not None

    retry = await client.delete(f"{url}?permanent=true", headers=headers)
    assert retry.status_code == 204
    assert await count("tombstones") == 1


async def test_empty_trash_purges_only_the_owners_trash(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    kept = await create_note(client, alice, title="kept")
    trashed = [await create_note(client, alice, title=f"t{i}") for i in range(3)]
    bobs = await create_note(client, bob, title="bob's")
    for note in [*trashed, bobs]:
        await client.delete(f"/v1/notes/{note['id']}", headers=alice if note is not bobs else bob)

    response = await client.delete("/v1/trash", headers=alice)
    assert response.status_code == 200
    assert response.json() == {"purged": 3}
    assert (await client.get(f"/v1/notes/{kept['id']}", headers=alice)).status_code == 200
    assert (await client.get(f"/v1/notes/{bobs['id']}", headers=bob)).status_code == 200
    assert await count("tombstones") == 3
    assert (await client.delete("/v1/trash", headers=alice)).json() == {"purged": 0}


async def test_purge_trash_cli_removes_old_trash_for_all_owners(
    client: httpx.AsyncClient, database_url: str
) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    old_a = await create_note(client, alice)
    old_b = await create_note(client, bob)
    recent = await create_note(client, alice)
    for note, headers in ((old_a, alice), (old_b, bob), (recent, alice)):
        await client.delete(f"/v1/notes/{note['id']}", headers=headers)
    await sql(
        "UPDATE notes SET deleted_at = now() - interval '31 days' WHERE id = ANY($1::uuid[])",
        [old_a["id"], old_b["id"]],
    )

    result = run_cli("purge-trash", "--older-than", "30d", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "purged 2 notes" in result.stdout
    ids = [str(r["id"]) for r in await sql("SELECT id FROM notes")]
    assert ids == [recent["id"]]
    tombstones = await sql(
        "SELECT t.id, o.name, t.version FROM tombstones t JOIN owners o ON o.id = t.owner_id "
        "ORDER BY o.name"
    )
    assert [(str(t["id"]), t["name"], t["version"]) for t in tombstones] == [
        (old_a["id"], "alice", 3),
        (old_b["id"], "bob", 3),
    ]

    bad = run_cli("purge-trash", "--older-than", "soon", database_url=database_url)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
