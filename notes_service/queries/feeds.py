"""Owner summaries, the delta-sync change feed and the NDJSON export: raw SQL, read side."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from notes_service import cursors as positions
from notes_service.contract import NoteOut, RevisionOut
from notes_service.queries.repository import NoteQueries
from notes_service.queries.router import Cursor, Queries
from notes_service.web.deps import CurrentOwner, Cursors

router = APIRouter(prefix="/v1", tags=["queries"])

NDJSON = "application/x-ndjson"
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


class Change(BaseModel):
    id: uuid.UUID
    version: int
    op: Literal["create", "update", "trash", "restore", "delete"]
    note: NoteOut | None


class ChangePage(BaseModel):
    changes: list[Change]
    next_cursor: str
    has_more: bool


# These routes pass through the JSON PostgreSQL built; `response_model` documents it.
@router.get("/tags", response_model=list[TagCount])
async def tag_counts(owner: CurrentOwner, queries: Queries) -> Response:
    return Response(await queries.tag_counts_json(owner.owner_id), media_type=JSON)


@router.get("/stats", response_model=Stats)
async def stats(owner: CurrentOwner, queries: Queries) -> Response:
    return Response(await queries.stats_json(owner.owner_id), media_type=JSON)


@router.get("/changes", response_model=ChangePage)
async def changes(
    owner: CurrentOwner,
    queries: Queries,
    cursors: Cursors,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    cursor: Cursor = None,
) -> Response:
    binding = positions.feed_binding(cursors, owner.owner_id)
    position = positions.decode_feed(cursors, cursor, binding) if cursor else positions.FEED_START
    page = await queries.changes_page(owner.owner_id, position, limit)
    if page["last_xid"] is not None:
        position = (page["last_xid"], page["last_seq"])
    next_cursor = positions.encode_feed(cursors, binding, position)
    body = (
        f'{{"changes":{page["changes"]},"next_cursor":{json.dumps(next_cursor)},'
        f'"has_more":{"true" if page["more"] else "false"}}}'
    )
    return Response(body, media_type=JSON)


# Small enough that a chunk of notes or revisions (bodies up to 100,000 characters) stays a few
# megabytes; each chunk is one short statement, with the connection back in the pool before the
# first of its lines is sent.
EXPORT_NOTES_CHUNK = 50
EXPORT_REVISIONS_CHUNK = 20


async def export_lines(
    queries: NoteQueries, owner_id: int, with_revisions: bool
) -> AsyncIterator[bytes]:
    """The owner's notes as NDJSON, oldest first. Not one snapshot: each chunk reads the
    committed state when it runs, and a note is never repeated (the keyset is its creation)."""
    after: tuple[datetime, uuid.UUID] | None = None
    while rows := await queries.export_notes(owner_id, after, EXPORT_NOTES_CHUNK):
        for row in rows:
            note = NoteOut.model_validate(dict(row)).model_dump(mode="json")
            line = json.dumps(note, ensure_ascii=False).encode()
            if not with_revisions:
                yield line + b"\n"
                continue
            # The same bytes as `note | {"revisions": [...]}` dumped whole, one chunk at a time.
            yield line[:-1] + b', "revisions": ['
            async for index, revision in _history(queries, row["id"]):
                yield (b", " if index else b"") + revision
            yield b"]}\n"
        after = (rows[-1]["created_at"], rows[-1]["id"])


async def _history(queries: NoteQueries, note_id: uuid.UUID) -> AsyncIterator[tuple[int, bytes]]:
    index, after_version = 0, 0
    while rows := await queries.export_revisions(note_id, after_version, EXPORT_REVISIONS_CHUNK):
        for row in rows:
            fields = dict(row) | {"tags": json.loads(row["tags"])}  # a jsonb column
            revision = RevisionOut.model_validate(fields).model_dump(mode="json")
            yield index, json.dumps(revision, ensure_ascii=False).encode()
            index += 1
        after_version = rows[-1]["version"]


@router.get("/export", response_class=StreamingResponse)
async def export(
    owner: CurrentOwner, queries: Queries, revisions: bool = False
) -> StreamingResponse:
    return StreamingResponse(
        export_lines(queries, owner.owner_id, revisions),
        media_type=NDJSON,
        headers={"Content-Disposition": 'attachment; filename="notes.ndjson"'},
    )
