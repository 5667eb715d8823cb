from __future__ import annotations

import httpx
import pytest

from tests.support.factories import api_key, count, create_note, sql

PROBLEM = "application/problem+json"


async def test_tags_are_trimmed_lowercased_deduplicated_and_sorted(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(
        client, await api_key(), tags=["  Work ", "work", "HOME", "todo", "Home"]
    )
    assert note["tags"] == ["home", "todo", "work"]


async def test_unicode_tags_compare_after_case_folding_and_normalisation(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    composed, decomposed = "\u00c9T\u00c9", "E\u0301te\u0301"  # "ÉTÉ" and "été" spelled apart
    note = await create_note(client, headers, tags=[composed, decomposed, "Straße", "🔥", "日本語"])
    assert note["tags"] == sorted(["\u00e9t\u00e9", "straße", "🔥", "日本語"])
    fetched = (await client.get(f"/v1/notes/{note['id']}", headers=headers)).json()
    assert fetched["tags"] == note["tags"]
    assert await count("tags") == 4


async def test_limits_are_counted_after_normalisation(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    # 21 tags that are 20 once duplicates collapse; a tag of exactly 50 characters.
    names = [f"t{i}" for i in range(20)] + ["T0"]
    assert len((await create_note(client, headers, tags=names))["tags"]) == 20
    assert (await create_note(client, headers, tags=["x" * 50]))["tags"] == ["x" * 50]


@pytest.mark.parametrize(
    ("tags", "loc"),
    [
        ([""], ["body", "tags", 0]),
        (["ok", "   "], ["body", "tags", 1]),
        (["two words"], ["body", "tags", 0]),
        (["no\u00a0break"], ["body", "tags", 0]),
        (["a,b"], ["body", "tags", 0]),
        (["x" * 51], ["body", "tags", 0]),
        # "İ" lowercases to two code points: 50 of them become 100 characters.
        (["\u0130" * 50], ["body", "tags", 0]),
        (["nul\x00"], ["body", "tags", 0]),
        ([f"t{i}" for i in range(21)], ["body", "tags"]),
        ([5], ["body", "tags", 0]),
        ("home", ["body", "tags"]),
    ],
)
async def test_bad_tags_get_422_naming_the_tag_and_write_nothing(
    client: httpx.AsyncClient, tags: object, loc: list[object]
) -> None:
    headers = await api_key()
    response = await client.post("/v1/notes", json={"title": "t", "tags": tags}, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert loc in [error["loc"] for error in response.json()["errors"]]
    assert await count("notes") == 0
    assert await count("tags") == 0


async def test_patch_replaces_the_tag_set(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers, tags=["a", "b"])
    url = f"/v1/notes/{note['id']}"
    response = await client.patch(url, json={"tags": ["B", "c"]}, headers=headers)
    assert response.status_code == 200
    assert response.json()["tags"] == ["b", "c"]
    assert response.json()["version"] == 2
    assert (await client.get(url, headers=headers)).json()["tags"] == ["b", "c"]
    links = await sql("SELECT count(*) AS n FROM note_tags WHERE note_id = $1", note["id"])
    assert links[0]["n"] == 2

    cleared = await client.patch(url, json={"tags": []}, headers=headers)
    assert cleared.json()["tags"] == []
    assert cleared.json()["version"] == 3


async def test_patch_with_the_same_tags_in_another_spelling_is_no_change(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    note = await create_note(client, headers, tags=["a", "b"])
    response = await client.patch(
        f"/v1/notes/{note['id']}", json={"tags": [" B", "A", "a"]}, headers=headers
    )
    assert response.status_code == 200
    assert response.json() == note
    assert await count("revisions") == 1


async def test_tags_belong_to_their_owner(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    await create_note(client, alice, tags=["work"])
    mine = await create_note(client, bob, tags=["work"])
    await client.patch(f"/v1/notes/{mine['id']}", json={"tags": ["play"]}, headers=bob)
    owners = await sql(
        "SELECT o.name, t.name AS tag FROM tags t JOIN owners o ON o.id = t.owner_id "
        "JOIN note_tags nt ON nt.tag_id = t.id ORDER BY o.name"
    )
    assert [(r["name"], r["tag"]) for r in owners] == [("alice", "work"), ("bob", "play")]


async def test_list_items_carry_their_tags(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    await create_note(client, headers, title="tagged", tags=["z", "a", "É"])
    await create_note(client, headers, title="plain")
    items = (await client.get("/v1/notes", headers=headers)).json()["items"]
    assert {n["title"]: n["tags"] for n in items} == {"tagged": ["a", "z", "é"], "plain": []}
