"""The one-statement write path: note, revision 1, tags and links in one INSERT, and the single
note served as orjson straight from its row."""

from __future__ import annotations

import uuid

import httpx
import pytest

from notes_service.contract import NoteOut
from notes_service.notes.conditional import etag
from tests.support.databases import race_a_new_tag
from tests.support.factories import owner_with_key, sql


async def test_get_body_is_what_the_model_would_serialise(client: httpx.AsyncClient) -> None:
    owner_id, headers = await owner_with_key()
    note_id = uuid.uuid4()
    # Microseconds with trailing zeros, and none at all: both must print as pydantic prints them.
    await sql(
        """INSERT INTO notes (id, owner_id, title, body, pinned, archived, version,
                              created_at, updated_at, deleted_at)
           VALUES ($1, $2, $3, $4, true, false, 3, '2026-01-02T03:04:05.120000Z',
                   '2026-01-02T03:04:06Z', '2026-01-02T03:04:07.000001Z')""",
        note_id,
        owner_id,
        "Ünïcode \u2028 <b>&",
        'quote " backslash \\ tab \t nul-free',
    )
    for name in ("zeta", "Alpha", "beta"):
        await sql(
            "WITH t AS (INSERT INTO tags (owner_id, name) VALUES ($1, $2) RETURNING id) "
            "INSERT INTO note_tags (note_id, tag_id) SELECT $3, id FROM t",
            owner_id,
            name,
            note_id,
        )
    # The row's copy of its links, as the write side keeps it (in the order it stores them).
    await sql("UPDATE notes SET tag_names = $2 WHERE id = $1", note_id, ["Alpha", "beta", "zeta"])
    response = await client.get(f"/v1/notes/{note_id}", headers=headers)
    assert response.status_code == 200
    expected = NoteOut.model_validate(response.json()).model_dump_json().encode()
    assert response.content == expected
    note = response.json()
    assert note["tags"] == ["Alpha", "beta", "zeta"]  # code-point order, as everywhere
    assert note["created_at"] == "2026-01-02T03:04:05.120000Z"
    assert note["deleted_at"] == "2026-01-02T03:04:07.000001Z"
    assert response.headers["etag"] == etag(note_id, 3)


async def test_create_writes_the_note_its_revision_and_its_links(
    client: httpx.AsyncClient,
) -> None:
    owner_id, headers = await owner_with_key()
    await sql("INSERT INTO tags (owner_id, name) VALUES ($1, 'old')", owner_id)
    payload = {"title": "t", "body": "b", "tags": ["new", "old"], "pinned": True}
    response = await client.post("/v1/notes", json=payload, headers=headers)
    assert response.status_code == 201
    note = response.json()
    [revision] = await sql(
        "SELECT version, title, body, tags, pinned, archived, deleted, created_at "
        "FROM revisions WHERE note_id = $1",
        uuid.UUID(note["id"]),
    )
    assert revision["version"] == 1 and revision["deleted"] is False
    assert (revision["title"], revision["body"], revision["pinned"]) == ("t", "b", True)
    assert revision["tags"] in (["new", "old"], '["new", "old"]', '["new","old"]')
    assert revision["created_at"].isoformat().replace("+00:00", "Z") == note["updated_at"]
    links = await sql(
        "SELECT t.name FROM note_tags nt JOIN tags t ON t.id = nt.tag_id "
        "WHERE nt.note_id = $1 ORDER BY t.name",
        uuid.UUID(note["id"]),
    )
    assert [link["name"] for link in links] == ["new", "old"]
    assert len(await sql("SELECT id FROM tags WHERE owner_id = $1", owner_id)) == 2


async def test_a_tag_created_concurrently_is_still_linked_on_create(
    client: httpx.AsyncClient, database_url: str
) -> None:
    owner_id, headers = await owner_with_key()

    async def write() -> httpx.Response:
        note = {"title": "race", "tags": ["raced", "solo"]}
        return await client.post("/v1/notes", json=note, headers=headers)

    async def check(response: httpx.Response) -> None:
        assert response.status_code == 201, response.text
        fetched = await client.get(f"/v1/notes/{response.json()['id']}", headers=headers)
        assert fetched.json()["tags"] == ["raced", "solo"]

    await race_a_new_tag(database_url, owner_id, write, check)


async def test_a_tag_created_concurrently_is_still_linked_on_patch(
    client: httpx.AsyncClient, database_url: str
) -> None:
    owner_id, headers = await owner_with_key()
    created = await client.post("/v1/notes", json={"title": "race"}, headers=headers)
    path = f"/v1/notes/{created.json()['id']}"

    async def write() -> httpx.Response:
        return await client.patch(path, json={"tags": ["raced"]}, headers=headers)

    async def check(response: httpx.Response) -> None:
        assert response.status_code == 200, response.text
        assert (await client.get(path, headers=headers)).json()["tags"] == ["raced"]

    await race_a_new_tag(database_url, owner_id, write, check)


@pytest.mark.parametrize("size", [1, 3])
async def test_a_batch_sharing_tags_links_each_note_once(
    client: httpx.AsyncClient, size: int
) -> None:
    _, headers = await owner_with_key()
    batch = {"notes": [{"title": f"n{i}", "tags": ["shared", f"own{i}"]} for i in range(size)]}
    response = await client.post("/v1/notes/batch", json=batch, headers=headers)
    assert response.status_code == 201
    for i, item in enumerate(response.json()["items"]):
        fetched = await client.get(f"/v1/notes/{item['id']}", headers=headers)
        assert fetched.json()["tags"] == [f"own{i}", "shared"]
    assert len(await sql("SELECT 1 FROM note_tags")) == 2 * size
