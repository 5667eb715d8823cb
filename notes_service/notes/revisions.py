"""Revisions: revision n is the note's state at version n, written in the transaction that
makes version n."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Sequence

from notes_service.notes.models import Note, Revision
from notes_service.notes.schemas import RevisionOut, RevisionPage
from notes_service.problems import InvalidCursor, NotFound


class RevisionNotFound(NotFound):
    def __init__(self, note_id: uuid.UUID, version: int) -> None:
        super().__init__(f"Note {note_id} has no revision {version}")


def snapshot(note: Note, tags: Sequence[str]) -> Revision:
    return Revision(
        note_id=note.id,
        version=note.version,
        title=note.title,
        body=note.body,
        tags=list(tags),
        pinned=note.pinned,
        archived=note.archived,
        deleted=note.deleted_at is not None,
        created_at=note.updated_at,
    )


async def record(note: Note, tags: Sequence[str]) -> None:
    await snapshot(note, tags).save()


def revision_out(revision: Revision) -> RevisionOut:
    return RevisionOut.model_validate(revision, from_attributes=True)


# The cursor names the note and the last version served. Its check digest catches a garbled or
# hand-edited cursor; a forged one could only page through a note its owner can read anyway.
def _digest(note_id: uuid.UUID, version: int) -> str:
    return hashlib.sha256(f"revisions:{note_id}:{version}".encode()).hexdigest()[:16]


def encode_cursor(note_id: uuid.UUID, version: int) -> str:
    payload = json.dumps([str(note_id), version, _digest(note_id, version)])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, note_id: uuid.UUID) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_note, version, digest = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise InvalidCursor() from None
    if (
        cursor_note != str(note_id)
        or type(version) is not int
        or not 1 <= version < 2**31
        or digest != _digest(note_id, version)
    ):
        raise InvalidCursor()
    return version


async def page(note_id: uuid.UUID, cursor: str | None, limit: int) -> RevisionPage:
    query = Revision.filter(note_id=note_id)
    if cursor is not None:
        query = query.filter(version__lt=decode_cursor(cursor, note_id))
    rows = await query.order_by("-version").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(note_id, rows[-1].version) if more else None
    return RevisionPage(items=[revision_out(r) for r in rows], next_cursor=next_cursor)


async def one(note_id: uuid.UUID, version: int) -> Revision:
    revision = await Revision.get_or_none(note_id=note_id, version=version)
    if revision is None:
        raise RevisionNotFound(note_id, version)
    return revision
