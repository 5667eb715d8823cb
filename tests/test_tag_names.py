"""`notes.tag_names`, the row's copy of its tag links that the read side lists: after every kind
of write it equals what `note_tags` says, sorted by code point."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg
import httpx

from tests.support.cli import aerich, run_cli
from tests.support.databases import race_a_new_tag
from tests.support.factories import owner_with_key, sql

# Every note whose copy differs from its links (the truth), with both sides.
DIVERGED = """
SELECT n.id, n.tag_names, l.names
FROM notes n
LEFT JOIN LATERAL (
    SELECT coalesce(array_agg(CAST(t.name AS text) ORDER BY t.name COLLATE "C"), '{}') AS names
    FROM note_tags nt JOIN tags t ON t.id = nt.tag_id
    WHERE nt.note_id = n.id) AS l ON true
WHERE n.tag_names IS DISTINCT FROM l.names
"""


async def assert_copies_match(notes: int) -> None:
    """The copies equal the links, on `notes` notes that do have tags (so the check bites)."""
    assert await sql(DIVERGED) == []
    tagged = await sql("SELECT count(*) AS n FROM notes WHERE tag_names <> '{}'")
    assert tagged[0]["n"] == notes


async def test_create_batch_patch_restore_and_trash_keep_the_copy(
    client: httpx.AsyncClient,
) -> None:
    owner_id, headers = await owner_with_key()
    await sql("INSERT INTO tags (owner_id, name) VALUES ($1, 'old')", owner_id)
    # Unsorted, repeated, upper-case, non-ASCII: the copy is distinct, in code-point order.
    one = await client.post(
        "/v1/notes", json={"title": "a", "tags": ["zeta", "Alpha", "old", "é", "zeta", "b-2"]},
        headers=headers,
    )  # fmt: skip
    assert one.status_code == 201, one.text
    path = f"/v1/notes/{one.json()['id']}"
    [row] = await sql("SELECT tag_names FROM notes WHERE id = $1", uuid.UUID(one.json()["id"]))
    assert row["tag_names"] == ["alpha", "b-2", "old", "zeta", "é"]
    batch = await client.post(
        "/v1/notes/batch",
        json={"notes": [{"title": "b1", "tags": ["x", "old"]}, {"title": "b2"}]},
        headers=headers,
    )
    assert batch.status_code == 201, batch.text
    await assert_copies_match(2)

    patched = await client.patch(path, json={"tags": ["new", "old"]}, headers=headers)
    assert patched.json()["tags"] == ["new", "old"]
    await client.patch(path, json={"title": "a2"}, headers=headers)  # tags untouched
    await assert_copies_match(2)
    restored = await client.post(f"{path}/revisions/1/restore", headers=headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["tags"] == ["alpha", "b-2", "old", "zeta", "é"]
    await assert_copies_match(2)
    assert (await client.delete(path, headers=headers)).status_code in (200, 204)
    assert (await client.post(f"{path}/restore", headers=headers)).status_code == 200
    cleared = await client.patch(path, json={"tags": []}, headers=headers)
    assert cleared.json()["tags"] == []
    await assert_copies_match(1)
    listed = await client.get("/v1/notes", headers=headers)
    assert {n["title"]: n["tags"] for n in listed.json()["items"]} == {
        "a": [],  # restoring revision 1 restored its title too
        "b1": ["old", "x"],
        "b2": [],
    }


async def test_a_concurrently_created_tag_is_in_the_copy(
    client: httpx.AsyncClient, database_url: str
) -> None:
    owner_id, headers = await owner_with_key()

    async def write() -> httpx.Response:
        note = {"title": "race", "tags": ["raced", "solo"]}
        return await client.post("/v1/notes", json=note, headers=headers)

    async def check(response: httpx.Response) -> None:
        assert response.status_code == 201, response.text
        await assert_copies_match(1)

    await race_a_new_tag(database_url, owner_id, write, check)


async def test_import_and_cli_import_keep_the_copy(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    _, headers = await owner_with_key()
    kept = await client.post("/v1/notes", json={"title": "k", "tags": ["a", "b"]}, headers=headers)
    lines = [
        {"id": kept.json()["id"], "title": "k", "tags": ["c", "a"]},  # overwritten: tags change
        {"title": "fresh", "tags": ["b", "d", "B"]},
        {"title": "bare"},
    ]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    response = await client.post(
        "/v1/import", params={"on_conflict": "overwrite"}, content=body, headers=headers
    )
    assert response.status_code == 200, response.text
    await assert_copies_match(2)

    dump = tmp_path / "notes.ndjson"
    dump.write_text('{"title": "cli", "tags": ["q", "p"]}\n{"title": "cli2"}\n')
    imported = run_cli("import", "--owner", "carol", str(dump), database_url=database_url)
    assert imported.returncode == 0, imported.stderr
    await assert_copies_match(3)
    [row] = await sql("SELECT tag_names FROM notes WHERE title = 'cli'")
    assert row["tag_names"] == ["p", "q"]


async def test_the_migration_backfills_the_copy_without_stamping_a_change(
    empty_database: str,
) -> None:
    assert aerich("upgrade", database_url=empty_database).returncode == 0
    down = aerich("downgrade", "--version", "5", "--yes", database_url=empty_database)
    assert down.returncode == 0, down.stdout + down.stderr
    conn = await asyncpg.connect(empty_database)
    try:
        await conn.execute(
            """INSERT INTO owners (name, created_at) VALUES ('o', now());
               INSERT INTO notes (id, owner_id, title, body, pinned, archived, version,
                                  created_at, updated_at)
               SELECT gen_random_uuid(), o.id, 'n' || g, '', false, false, 1, now(), now()
               FROM owners o, generate_series(1, 3) g;
               INSERT INTO tags (owner_id, name) SELECT id, unnest(ARRAY['b', 'a', 'C'])
               FROM owners;
               INSERT INTO note_tags (note_id, tag_id)
               SELECT n.id, t.id FROM notes n JOIN tags t ON n.title <> 'n3'"""
        )
        before = await conn.fetch("SELECT id FROM notes ORDER BY change_xid, change_seq")
        up = aerich("upgrade", database_url=empty_database)
        assert up.returncode == 0, up.stdout + up.stderr
        copies = {r["title"]: r["tag_names"] for r in await conn.fetch("SELECT * FROM notes")}
        assert copies == {"n1": ["C", "a", "b"], "n2": ["C", "a", "b"], "n3": []}
        # Not a change of any note: the feed (carried over by migration feed_clock, in the order
        # the changes had) still has them in the order they were written, n3 included.
        after = await conn.fetch("SELECT note_id AS id, tick FROM feed ORDER BY tick, seq")
        assert [r["id"] for r in after] == [r["id"] for r in before]
        assert {r["tick"] for r in after} == {1}
    finally:
        await conn.close()
