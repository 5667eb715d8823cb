"""The tutorial baseline of SPEC §7: a FastAPI app, an asyncpg pool opened in the lifespan, and a
`Depends` that acquires a connection per request. It serves one note as `dict(row)`.

    BASELINE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/notes_bench \
        .venv/bin/uvicorn benchmarks.baseline_app:app --workers 1 --port 8001
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from fastapi import Depends, FastAPI, HTTPException, Request

DATABASE_URL = os.environ.get(
    "BASELINE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/notes_bench"
)
# The same columns the service returns; the generated `search` tsvector stays out of both.
SELECT_NOTE = """
SELECT id, title, body, pinned, archived, version, created_at, updated_at, deleted_at
FROM notes WHERE id = $1
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Pool bounds match the service's default read and write pools (1..10).
    app.state.pool = await asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=10)
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


async def get_connection(request: Request) -> AsyncIterator[PoolConnectionProxy]:
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as connection:
        yield connection


Connection = Annotated[PoolConnectionProxy, Depends(get_connection)]


@app.get("/items/{item_id}")
async def read_item(item_id: uuid.UUID, connection: Connection) -> dict[str, Any]:
    row = await connection.fetchrow(SELECT_NOTE, item_id)
    if row is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return dict(row)
