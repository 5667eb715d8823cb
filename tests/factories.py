from __future__ import annotations

from typing import Any

import httpx
from tortoise import connections

from notes_service import auth


async def api_key(owner: str = "alice", label: str = "") -> dict[str, str]:
    """Authorization headers for a new key of `owner` (created if needed)."""
    key = await auth.create_key(owner, label)
    return {"Authorization": f"Bearer {key.secret}"}


async def create_note(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    payload = {"title": "A note", "body": "Some text"} | fields
    response = await client.post("/v1/notes", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


async def sql(statement: str, *values: Any) -> list[dict[str, Any]]:
    """Look at the database directly (through the write pool), as an operator would."""
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(
        statement, list(values)
    )
    return rows


async def count(table: str) -> int:
    rows = await sql(f"SELECT count(*) AS n FROM {table}")
    return int(rows[0]["n"])
