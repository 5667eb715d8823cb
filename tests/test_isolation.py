from __future__ import annotations

import httpx

from tests.support.factories import api_key, count, create_note


async def test_another_owners_note_is_404_on_every_new_route(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    note = await create_note(client, alice, tags=["private"])
    url = f"/v1/notes/{note['id']}"
    etag = (await client.get(url, headers=alice)).headers["etag"]

    attempts = [
        ("GET", url, {"If-None-Match": etag}),
        ("PATCH", url, {"If-Match": etag}),
        ("DELETE", url, {"If-Match": etag}),
        ("DELETE", f"{url}?permanent=true", {}),
        ("POST", f"{url}/restore", {}),
        ("GET", f"{url}/revisions", {}),
        ("GET", f"{url}/revisions/1", {}),
        ("POST", f"{url}/revisions/1/restore", {}),
    ]
    for method, target, extra in attempts:
        response = await client.request(
            method, target, headers=bob | extra, json={"tags": []} if method == "PATCH" else None
        )
        assert response.status_code == 404, (method, target)
        assert response.json()["type"].endswith(":not-found")
        assert "etag" not in response.headers

    await client.delete(url, headers=alice)
    assert (await client.delete("/v1/trash", headers=bob)).json() == {"purged": 0}
    assert (await client.post(f"{url}/restore", headers=bob)).status_code == 404
    restored = await client.post(f"{url}/restore", headers=alice)
    assert restored.json()["tags"] == ["private"]
    assert restored.json()["version"] == 3
    assert await count("tombstones") == 0


async def test_new_routes_need_a_key(client: httpx.AsyncClient) -> None:
    note = await create_note(client, await api_key())
    url = f"/v1/notes/{note['id']}"
    for method, target in (
        ("POST", "/v1/notes/batch"),
        ("DELETE", "/v1/trash"),
        ("POST", f"{url}/restore"),
        ("GET", f"{url}/revisions"),
        ("GET", f"{url}/revisions/1"),
        ("POST", f"{url}/revisions/1/restore"),
    ):
        response = await client.request(method, target)
        assert response.status_code == 401, (method, target)
