"""The delta-sync change feed, a page at a time (raw SQL, read side); stream.py pushes the same
entries as Server-Sent Events."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from notes_service import cursors as positions
from notes_service.contract import NoteOut
from notes_service.queries.router import Cursor, Queries
from notes_service.web.deps import CurrentOwner, Cursors, FeedClockDep

router = APIRouter(prefix="/v1", tags=["queries"])

JSON = "application/json"


class Change(BaseModel):
    id: uuid.UUID
    version: int
    op: Literal["create", "update", "trash", "restore", "delete"]
    note: NoteOut | None


class ChangePage(BaseModel):
    changes: list[Change]
    next_cursor: str
    has_more: bool


@router.get("/changes", response_model=ChangePage)
async def changes(
    owner: CurrentOwner,
    queries: Queries,
    cursors: Cursors,
    clock: FeedClockDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    cursor: Cursor = None,
) -> Response:
    binding = positions.feed_binding(cursors, owner.owner_id)
    position = positions.decode_feed(cursors, cursor, binding) if cursor else positions.FEED_START
    await clock.settle(owner.owner_id)
    page = await queries.changes_page(owner.owner_id, position, limit)
    if page["last_tick"] is not None:
        position = (page["last_tick"], page["last_seq"])
    next_cursor = positions.encode_feed(cursors, binding, position)
    body = (
        f'{{"changes":{page["changes"]},"next_cursor":{json.dumps(next_cursor)},'
        f'"has_more":{"true" if page["more"] else "false"}}}'
    )
    return Response(body, media_type=JSON)
