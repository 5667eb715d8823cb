"""Plans that need no fresh statistics (SPEC §2, "Bounded work"): right after a bulk import,
before autovacuum has analyzed anything (it is off on these tables here, as on the system
PostgreSQL of CI), every read route answers as usual, not with a 503 after a plan built for the
handful of notes the statistics still believe the owner has."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tortoise import connections

from tests.support.factories import api_key

IMPORTED = 20_000
TAGS = 1000  # each note has 3: a plan that probes notes x tags makes 20 million probes
PER_REQUEST = 10_000  # NOTES_IMPORT_MAX_LINES
WRITTEN_TABLES = ("notes", "revisions", "note_tags", "tags")


def ndjson(prefix: str, count: int, tags: int) -> bytes:
    lines = (
        json.dumps({"title": f"{prefix}{i}", "tags": [f"t{(3 * i + k) % tags}" for k in range(3)]})
        for i in range(count)
    )
    return "\n".join(lines).encode()


@pytest.fixture
async def no_autovacuum(client: httpx.AsyncClient) -> AsyncIterator[None]:
    db = connections.get("default")
    for table in WRITTEN_TABLES:
        await db.execute_script(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
    yield
    for table in WRITTEN_TABLES:
        await db.execute_script(f'ALTER TABLE "{table}" RESET (autovacuum_enabled)')


@pytest.mark.usefixtures("no_autovacuum")
async def test_every_read_route_answers_right_after_a_20000_note_import(
    client: httpx.AsyncClient,
) -> None:
    db = connections.get("default")
    # Statistics taken while this owner had no notes: afterwards the planner thinks it has ~1.
    other = await api_key("other")
    response = await client.post("/v1/import", content=ndjson("o", 500, 40), headers=other)
    assert response.status_code == 200, response.text
    for table in WRITTEN_TABLES:
        await db.execute_script(f'ANALYZE "{table}"')

    alice = await api_key("alice")
    for start in range(0, IMPORTED, PER_REQUEST):
        body = ndjson(f"n{start}-", PER_REQUEST, TAGS)
        response = await client.post("/v1/import", content=body, headers=alice)
        assert response.status_code == 200, response.text
        assert response.json()["created"] == PER_REQUEST

    tags = await client.get("/v1/tags", headers=alice)
    assert tags.status_code == 200, tags.text
    counts = {t["name"]: t["count"] for t in tags.json()}
    assert len(counts) == TAGS and sum(counts.values()) == 3 * IMPORTED
    stats = await client.get("/v1/stats", headers=alice)
    assert stats.status_code == 200, stats.text
    assert stats.json()["notes"] == IMPORTED and stats.json()["tags"] == TAGS
    reads: list[tuple[str, dict[str, Any]]] = [
        ("/v1/notes", {}),
        ("/v1/notes", {"tag": ["t1", "t2"]}),
        ("/v1/notes", {"sort": "created_at", "limit": 100}),
        ("/v1/search", {"q": "n10000"}),
        ("/v1/changes", {"limit": 100}),
    ]
    for path, params in reads:
        response = await client.get(path, params=params, headers=alice)
        assert response.status_code == 200, (path, params, response.text)
    async with client.stream("GET", "/v1/export", headers=alice) as export:
        assert export.status_code == 200
        lines = sum([chunk.count(b"\n") async for chunk in export.aiter_bytes()])
    assert lines == IMPORTED
