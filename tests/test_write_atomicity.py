"""Faults injected halfway through multi-statement writes that had no such test: an import and
`DELETE /v1/trash`. Each is one transaction, so a failure leaves every table as it was."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.factories import api_key, count, create_note
from tests.support.faults import failing_trigger


@pytest.fixture
async def purge_fault(client: httpx.AsyncClient) -> AsyncIterator[None]:
    """A test-only trigger that fails the delete of any note titled "kaboom": the last step of a
    permanent delete, after its tombstone is written and its revisions are deleted."""
    async with failing_trigger(
        "test_purge_fault",
        "BEFORE DELETE ON notes",
        "OLD.title = 'kaboom'",
        "injected purge fault",
    ):
        yield


async def _tables() -> dict[str, int]:
    return {t: await count(t) for t in ("notes", "revisions", "note_tags", "tombstones")}


@pytest.mark.usefixtures("revision_fault")
async def test_an_import_failing_halfway_writes_nothing(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    await create_note(client, headers, title="before", tags=["t"])
    before = await _tables()
    # The notes and their tag links are written before the revisions; the last line's
    # revision insert fails.
    lines = [{"title": f"n{i}", "tags": ["t", f"x{i}"]} for i in range(5)] + [{"title": "kaboom"}]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    response = await client.post("/v1/import", content=body, headers=headers)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert await _tables() == before


@pytest.mark.usefixtures("purge_fault")
async def test_emptying_the_trash_failing_halfway_removes_nothing(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    for title in ("first", "kaboom", "last"):
        note = await create_note(client, headers, title=title, tags=["t"])
        await client.patch(f"/v1/notes/{note['id']}", json={"body": "v2"}, headers=headers)
        await client.delete(f"/v1/notes/{note['id']}", headers=headers)
    before = await _tables()
    response = await client.delete("/v1/trash", headers=headers)
    assert response.status_code == 500
    assert await _tables() == before
    trash = await client.get("/v1/notes", params={"trashed": "true"}, headers=headers)
    assert len(trash.json()["items"]) == 3
