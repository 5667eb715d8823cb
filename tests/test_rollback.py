from __future__ import annotations

import json

import httpx
import pytest

from tests.support.factories import api_key, count, create_note, sql

PROBLEM = "application/problem+json"


def assert_leaks_nothing(response: httpx.Response) -> None:
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith(":internal")
    assert "hunter2" not in response.text and "injected" not in response.text


@pytest.mark.usefixtures("revision_fault")
async def test_a_failing_revision_insert_rolls_back_the_whole_update(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    note = await create_note(client, headers, title="before", tags=["a", "b"])
    url = f"/v1/notes/{note['id']}"

    response = await client.patch(
        url, json={"title": "kaboom", "tags": ["c"], "pinned": True}, headers=headers
    )
    assert_leaks_nothing(response)

    assert (await client.get(url, headers=headers)).json() == note
    assert [r["name"] for r in await sql("SELECT name FROM tags ORDER BY name")] == ["a", "b"]
    assert await count("note_tags") == 2
    assert [r["version"] for r in await sql("SELECT version FROM revisions")] == [1]


@pytest.mark.usefixtures("revision_fault")
async def test_a_fault_at_the_57th_batch_item_writes_nothing(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    notes = [{"title": f"n{i}", "tags": [f"t{i % 7}"]} for i in range(100)]
    notes[56]["title"] = "kaboom"
    response = await client.post("/v1/notes/batch", json={"notes": notes}, headers=headers)
    assert_leaks_nothing(response)
    for table in ("notes", "tags", "note_tags", "revisions"):
        assert await count(table) == 0, table


@pytest.mark.usefixtures("revision_fault")
async def test_a_failed_create_leaves_no_idempotency_record(client: httpx.AsyncClient) -> None:
    headers = await api_key() | {"Idempotency-Key": "create-1"}
    payload = {"title": "kaboom"}
    assert_leaks_nothing(await client.post("/v1/notes", json=payload, headers=headers))
    assert await count("idempotency_keys") == 0
    assert await count("notes") == 0

    await sql("DROP TRIGGER test_revision_fault ON revisions")
    retry = await client.post("/v1/notes", json=payload, headers=headers)
    assert retry.status_code == 201
    assert "idempotent-replayed" not in retry.headers


@pytest.mark.usefixtures("revision_fault")
async def test_a_failing_line_undoes_the_overwrites_of_the_same_import(
    client: httpx.AsyncClient,
) -> None:
    """The import is one transaction: a note overwritten by an earlier line comes back as it
    was when a later line fails."""
    headers = await api_key()
    note = await create_note(client, headers, title="before", tags=["a"])
    url = f"/v1/notes/{note['id']}"
    lines = [
        {"id": note["id"], "title": "overwritten", "tags": ["b"]},
        {"title": "kaboom"},
    ]
    body = b"\n".join(json.dumps(line).encode() for line in lines)
    response = await client.post(
        "/v1/import", params={"on_conflict": "overwrite"}, content=body, headers=headers
    )
    assert_leaks_nothing(response)
    assert (await client.get(url, headers=headers)).json() == note
    assert [r["version"] for r in await sql("SELECT version FROM revisions")] == [1]
    assert await count("notes") == 1
