"""Concurrent writers through the real app and a real PostgreSQL. The write pool holds 5
connections, so 20 requests queue for them as they would in production. The observed counts
are printed (`pytest -s`) for the record."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.support.factories import api_key, count, sql

WRITERS = 20


async def test_same_if_match_patches_let_exactly_one_through(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    created = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
    url = f"/v1/notes/{created.json()['id']}"
    conditional = headers | {"If-Match": created.headers["etag"]}

    responses = await asyncio.gather(
        *(
            client.patch(url, json={"body": f"writer {i}"}, headers=conditional)
            for i in range(WRITERS)
        )
    )
    statuses = Counter(r.status_code for r in responses)
    final = (await client.get(url, headers=headers)).json()
    print(f"\nsame If-Match x{WRITERS}: {dict(statuses)}, final version {final['version']}")
    assert statuses == {200: 1, 412: WRITERS - 1}
    assert final["version"] == 2
    [winner] = [r.json() for r in responses if r.status_code == 200]
    assert final["body"] == winner["body"]
    assert await count("revisions") == 2


async def test_unconditional_patches_each_get_their_own_version(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    created = await client.post("/v1/notes", json={"title": "t"}, headers=headers)
    note_id = created.json()["id"]
    url = f"/v1/notes/{note_id}"

    responses = await asyncio.gather(
        *(client.patch(url, json={"body": f"writer {i}"}, headers=headers) for i in range(WRITERS))
    )
    statuses = Counter(r.status_code for r in responses)
    final = (await client.get(url, headers=headers)).json()
    rows = await sql(
        "SELECT version, body FROM revisions WHERE note_id = $1 ORDER BY version", note_id
    )
    versions = [r["version"] for r in rows]
    print(
        f"\nunconditional x{WRITERS}: {dict(statuses)}, final version {final['version']}, "
        f"{len(rows)} revisions, versions {versions[0]}..{versions[-1]}"
    )
    assert statuses == {200: WRITERS}
    assert sorted(r.json()["version"] for r in responses) == list(range(2, WRITERS + 2))
    assert final["version"] == WRITERS + 1
    assert versions == list(range(1, WRITERS + 2))
    assert rows[-1]["body"] == final["body"]
    assert sorted(r["body"] for r in rows[1:]) == sorted(f"writer {i}" for i in range(WRITERS))


async def test_one_idempotency_key_creates_one_note(client: httpx.AsyncClient) -> None:
    headers = await api_key() | {"Idempotency-Key": "burst"}
    payload = {"title": "once", "tags": ["a", "b", "c"]}

    responses = await asyncio.gather(
        *(client.post("/v1/notes", json=payload, headers=headers) for _ in range(WRITERS))
    )
    kinds = Counter(
        "201" if r.status_code == 201 and "idempotent-replayed" not in r.headers
        else "201-replayed" if r.status_code == 201
        else str(r.status_code)
        for r in responses
    )  # fmt: skip
    print(f"\none Idempotency-Key x{WRITERS}: {dict(kinds)}")
    assert kinds["201"] == 1
    assert kinds["201-replayed"] + kinds["409"] == WRITERS - 1
    assert await count("notes") == 1
    assert await count("idempotency_keys") == 1
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    for conflict in (r for r in responses if r.status_code == 409):
        assert conflict.json()["type"].endswith(":idempotency-in-flight")
