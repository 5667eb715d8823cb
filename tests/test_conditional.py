from __future__ import annotations

import httpx

from tests.support.factories import api_key, count, create_note

PROBLEM = "application/problem+json"


async def test_etag_is_strong_and_follows_the_version(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    created = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
    tag = created.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    url = f"/v1/notes/{created.json()['id']}"
    assert (await client.get(url, headers=headers)).headers["etag"] == tag

    patched = await client.patch(url, json={"body": "new"}, headers=headers)
    assert patched.headers["etag"] != tag
    assert (await client.get(url, headers=headers)).headers["etag"] == patched.headers["etag"]
    unchanged = await client.patch(url, json={"body": "new"}, headers=headers)
    assert unchanged.headers["etag"] == patched.headers["etag"]

    await client.delete(url, headers=headers)
    restored = await client.post(f"{url}/restore", headers=headers)
    assert restored.headers["etag"] not in (tag, patched.headers["etag"])


async def test_if_none_match_gets_304_without_a_body(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    url = f"/v1/notes/{note['id']}"
    tag = (await client.get(url, headers=headers)).headers["etag"]
    for value in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        response = await client.get(url, headers=headers | {"If-None-Match": value})
        assert response.status_code == 304, value
        assert response.content == b""
        assert response.headers["etag"] == tag
    for value in ('"other"', "garbage"):
        response = await client.get(url, headers=headers | {"If-None-Match": value})
        assert response.status_code == 200


async def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    created = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
    stale = created.headers["etag"]
    url = f"/v1/notes/{created.json()['id']}"
    fresh = await client.patch(url, json={"body": "b"}, headers=headers | {"If-Match": stale})
    assert fresh.status_code == 200

    for value in (stale, f"W/{fresh.headers['etag']}"):
        response = await client.patch(
            url, json={"title": "lost"}, headers=headers | {"If-Match": value}
        )
        assert response.status_code == 412, value
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"].endswith(":precondition-failed")
    assert (await client.get(url, headers=headers)).json() == fresh.json()
    assert await count("revisions") == 2

    star = await client.patch(url, json={"title": "any"}, headers=headers | {"If-Match": "*"})
    assert star.status_code == 200


async def test_delete_and_restores_honour_if_match(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    created = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
    v1 = created.headers["etag"]
    url = f"/v1/notes/{created.json()['id']}"
    v2 = (await client.patch(url, json={"body": "b"}, headers=headers)).headers["etag"]

    stale = headers | {"If-Match": v1}
    assert (await client.delete(url, headers=stale)).status_code == 412
    assert (await client.post(f"{url}/revisions/1/restore", headers=stale)).status_code == 412
    assert (await client.delete(f"{url}?permanent=true", headers=stale)).status_code == 412
    assert (await client.get(url, headers=headers)).json()["version"] == 2

    assert (await client.delete(url, headers=headers | {"If-Match": v2})).status_code == 204
    # A retry of that DELETE, with the tag it first sent, still succeeds: the note is trashed.
    assert (await client.delete(url, headers=headers | {"If-Match": v2})).status_code == 204
    assert (await client.post(f"{url}/restore", headers=stale)).status_code == 412
    v3 = (await client.get(url, headers=headers)).headers["etag"]
    restored = await client.post(f"{url}/restore", headers=headers | {"If-Match": v3})
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None


async def test_an_if_match_without_quotes_is_a_400_that_says_so(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    created = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
    current = created.headers["etag"]
    url = f"/v1/notes/{created.json()['id']}"
    bare = current.strip('"')
    response = await client.patch(url, json={"title": "x"}, headers=headers | {"If-Match": bare})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith(":invalid-if-match")
    assert "without its double quotes" in problem["detail"] and current in problem["detail"]
    other = await client.delete(url, headers=headers | {"If-Match": "nonsense, really"})
    assert other.status_code == 400 and "double quotes" in other.json()["detail"]
    assert (await client.get(url, headers=headers)).json() == created.json()
    assert await count("revisions") == 1
