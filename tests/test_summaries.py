from __future__ import annotations

import httpx

from tests.support.factories import api_key, create_note


async def test_tags_are_counted_over_live_notes(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    await create_note(client, headers, title="a", tags=["home", "todo"])
    await create_note(client, headers, title="b", tags=["home"])
    await create_note(client, headers, title="c", tags=["zeta", "alpha"])
    trashed = await create_note(client, headers, title="d", tags=["gone", "home"])
    await client.delete(f"/v1/notes/{trashed['id']}", headers=headers)

    response = await client.get("/v1/tags", headers=headers)
    assert response.status_code == 200
    assert response.json() == [
        {"name": "home", "count": 2},
        {"name": "alpha", "count": 1},
        {"name": "todo", "count": 1},
        {"name": "zeta", "count": 1},
    ]


async def test_stats_count_what_the_owner_has(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    assert (await client.get("/v1/stats", headers=headers)).json() == {
        "notes": 0,
        "pinned": 0,
        "archived": 0,
        "trashed": 0,
        "tags": 0,
        "revisions": 0,
        "last_updated_at": None,
    }
    a = await create_note(client, headers, title="a", tags=["x"], pinned=True)
    await create_note(client, headers, title="b", tags=["x", "y"], archived=True)
    c = await create_note(client, headers, title="c", tags=["z"], pinned=True)
    await client.patch(f"/v1/notes/{a['id']}", json={"body": "changed"}, headers=headers)
    await client.delete(f"/v1/notes/{c['id']}", headers=headers)
    latest = (await client.get(f"/v1/notes/{c['id']}", headers=headers)).json()["updated_at"]

    stats = (await client.get("/v1/stats", headers=headers)).json()
    assert stats == {
        "notes": 2,
        "pinned": 1,
        "archived": 1,
        "trashed": 1,
        "tags": 2,
        "revisions": 5,
        "last_updated_at": latest,
    }


async def test_summaries_are_per_owner(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    await create_note(client, alice, title="a", tags=["private"])
    assert (await client.get("/v1/tags", headers=bob)).json() == []
    assert (await client.get("/v1/stats", headers=bob)).json()["notes"] == 0


async def test_stats_count_only_the_owners_revisions(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    mine = await create_note(client, alice, title="a")
    await client.patch(f"/v1/notes/{mine['id']}", json={"body": "v2"}, headers=alice)
    theirs = await create_note(client, bob, title="b")
    for version in range(2, 5):
        body = {"body": f"v{version}"}
        await client.patch(f"/v1/notes/{theirs['id']}", json=body, headers=bob)
    assert (await client.get("/v1/stats", headers=alice)).json()["revisions"] == 2
    assert (await client.get("/v1/stats", headers=bob)).json()["revisions"] == 4


async def test_stats_count_only_the_owners_tags(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    await create_note(client, alice, title="a", tags=["shared", "mine"])
    await create_note(client, bob, title="b", tags=["shared", "theirs", "more", "still"])
    assert (await client.get("/v1/stats", headers=alice)).json()["tags"] == 2
    assert (await client.get("/v1/stats", headers=bob)).json()["tags"] == 4
    assert [t["name"] for t in (await client.get("/v1/tags", headers=alice)).json()] == [
        "mine",
        "shared",
    ]
