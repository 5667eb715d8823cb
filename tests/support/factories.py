from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from tortoise import connections

from notes_service.accounts import auth
from notes_service.accounts.models import Owner
from notes_service.notes.models import Note
from notes_service.web.app import create_app


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


async def search(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    """One page of /v1/search (which must answer 200)."""
    response = await client.get("/v1/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def owner_with_key(owner: str = "alice") -> tuple[int, dict[str, str]]:
    headers = await api_key(owner)
    return (await Owner.get(name=owner)).id, headers


async def insert_note(owner_id: int, **fields: Any) -> Note:
    """A note with chosen timestamps and flags, written straight through the model."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "title": "inserted",
        "body": "",
        "created_at": now,
        "updated_at": now,
    } | fields
    return await Note.create(owner_id=owner_id, **values)


async def sql(statement: str, *values: Any) -> list[dict[str, Any]]:
    """Look at the database directly (through the write pool), as an operator would."""
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(
        statement, list(values)
    )
    return rows


async def count(table: str) -> int:
    rows = await sql(f"SELECT count(*) AS n FROM {table}")
    return int(rows[0]["n"])


def sibling_app(app: FastAPI, **settings: Any) -> FastAPI:
    """An app built by `create_app` with other settings, serving through the running app's
    pools, listener and streams (a second lifespan would re-register Tortoise's connections)."""
    sibling = create_app(app.state.settings.model_copy(update=settings))
    for name in ("read_db", "note_queries", "streams"):
        setattr(sibling.state, name, getattr(app.state, name))
    return sibling
