"""An owner's summaries: tag counts and note statistics (raw SQL, read side)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel

from notes_service.queries.router import Queries
from notes_service.web.deps import CurrentOwner

router = APIRouter(prefix="/v1", tags=["queries"])

JSON = "application/json"


class TagCount(BaseModel):
    name: str
    count: int


class Stats(BaseModel):
    notes: int
    pinned: int
    archived: int
    trashed: int
    tags: int
    revisions: int
    last_updated_at: datetime | None


# These routes pass through the JSON PostgreSQL built; `response_model` documents it.
@router.get("/tags", response_model=list[TagCount])
async def tag_counts(owner: CurrentOwner, queries: Queries) -> Response:
    return Response(await queries.tag_counts_json(owner.owner_id), media_type=JSON)


@router.get("/stats", response_model=Stats)
async def stats(owner: CurrentOwner, queries: Queries) -> Response:
    return Response(await queries.stats_json(owner.owner_id), media_type=JSON)
