"""The NDJSON export of an owner's notes, streamed in short chunks (raw SQL, read side)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from notes_service.accounts import auth
from notes_service.accounts.auth import KeyWatch
from notes_service.contract import NoteOut, RevisionOut
from notes_service.errors import Unauthorized
from notes_service.queries.repository import NoteQueries
from notes_service.queries.router import Queries
from notes_service.web.deps import CurrentOwner

router = APIRouter(prefix="/v1", tags=["queries"])

NDJSON = "application/x-ndjson"


# Small enough that a chunk of notes or revisions (bodies up to 100,000 characters) stays a few
# megabytes; each chunk is one short statement, with the connection back in the pool before the
# first of its lines is sent.
EXPORT_NOTES_CHUNK = 50
EXPORT_REVISIONS_CHUNK = 20


class RevokedDuringExport(Unauthorized):
    """Raised after the response has begun: the connection is cut, so the client sees an
    incomplete body (no final chunk), never a file that looks whole."""

    def __init__(self) -> None:
        super().__init__("The API key was revoked during the export; the export is incomplete")


async def export_lines(
    queries: NoteQueries, owner_id: int, with_revisions: bool, key: KeyWatch | None = None
) -> AsyncIterator[bytes]:
    """The owner's notes as NDJSON, oldest first. Not one snapshot: each chunk reads the
    committed state when it runs, and a note is never repeated (the keyset is its creation).
    With a `key`, a revocation ends it before the next note."""
    after: tuple[datetime, uuid.UUID] | None = None
    while rows := await queries.export_notes(owner_id, after, EXPORT_NOTES_CHUNK):
        for row in rows:
            if key is not None and await key.revoked():
                raise RevokedDuringExport()
            note = NoteOut.model_validate(dict(row)).model_dump(mode="json")
            line = json.dumps(note, ensure_ascii=False).encode()
            if not with_revisions:
                yield line + b"\n"
                continue
            # The same bytes as `note | {"revisions": [...]}` dumped whole, one chunk at a time.
            yield line[:-1] + b', "revisions": ['
            async for index, revision in _history(queries, row["id"], key):
                yield (b", " if index else b"") + revision
            yield b"]}\n"
        after = (rows[-1]["created_at"], rows[-1]["id"])


async def _history(
    queries: NoteQueries, note_id: uuid.UUID, key: KeyWatch | None
) -> AsyncIterator[tuple[int, bytes]]:
    index, after_version = 0, 0
    while rows := await queries.export_revisions(note_id, after_version, EXPORT_REVISIONS_CHUNK):
        for row in rows:
            if key is not None and await key.revoked():  # a long history is no exception
                raise RevokedDuringExport()
            fields = dict(row) | {"tags": json.loads(row["tags"])}  # a jsonb column
            revision = RevisionOut.model_validate(fields).model_dump(mode="json")
            yield index, json.dumps(revision, ensure_ascii=False).encode()
            index += 1
        after_version = rows[-1]["version"]


@router.get("/export", response_class=StreamingResponse)
async def export(
    request: Request, owner: CurrentOwner, queries: Queries, revisions: bool = False
) -> StreamingResponse:
    key = KeyWatch(auth.key_hash_of(request))
    return StreamingResponse(
        export_lines(queries, owner.owner_id, revisions, key),
        media_type=NDJSON,
        headers={"Content-Disposition": 'attachment; filename="notes.ndjson"'},
    )
