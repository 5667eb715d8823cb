from __future__ import annotations

import httpx

from tests.support.factories import api_key, count

PROBLEM = "application/problem+json"


async def test_batch_creates_every_note_with_tags_and_revision_1(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    notes = [{"title": f"n{i}", "tags": ["Shared", f"own{i}"]} for i in range(3)]
    response = await client.post("/v1/notes/batch", json={"notes": notes}, headers=headers)
    assert response.status_code == 201
    items = response.json()["items"]
    assert [n["title"] for n in items] == ["n0", "n1", "n2"]
    assert [n["tags"] for n in items] == [
        ["own0", "shared"],
        ["own1", "shared"],
        ["own2", "shared"],
    ]
    assert {n["version"] for n in items} == {1}
    for note in items:
        fetched = await client.get(f"/v1/notes/{note['id']}", headers=headers)
        assert fetched.json() == note
    assert await count("revisions") == 3
    assert await count("tags") == 4


async def test_an_invalid_57th_item_gets_422_naming_each_bad_index(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    notes: list[dict[str, object]] = [{"title": f"n{i}"} for i in range(100)]
    notes[56] = {"title": "   "}
    notes[3] = {"title": "ok", "tags": ["two words"]}
    response = await client.post("/v1/notes/batch", json={"notes": notes}, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    locs = [error["loc"] for error in response.json()["errors"]]
    assert ["body", "notes", 56, "title"] in locs
    assert ["body", "notes", 3, "tags", 0] in locs
    assert {loc[2] for loc in locs} == {3, 56}
    assert await count("notes") == 0
    assert await count("tags") == 0


async def test_batch_size_is_1_to_100(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    for size in (0, 101):
        notes = [{"title": "n"}] * size
        response = await client.post("/v1/notes/batch", json={"notes": notes}, headers=headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "notes"]
    full = await client.post(
        "/v1/notes/batch", json={"notes": [{"title": "n"}] * 100}, headers=headers
    )
    assert full.status_code == 201
    assert await count("notes") == 100
