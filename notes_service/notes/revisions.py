"""Revisions: revision n is the note's state at version n, written in the transaction that
makes version n."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from notes_service import cursors
from notes_service.contract import RevisionOut, RevisionPage
from notes_service.cursors import CursorCodec
from notes_service.notes.errors import RevisionNotFound
from notes_service.notes.models import Note, Revision


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


async def page(
    note_id: uuid.UUID, cursor: str | None, limit: int, codec: CursorCodec
) -> RevisionPage:
    binding = cursors.revisions_binding(codec, note_id)
    query = Revision.filter(note_id=note_id)
    if cursor:
        query = query.filter(version__lt=cursors.decode_revisions(codec, cursor, binding))
    rows = await query.order_by("-version").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursors.encode_revisions(codec, binding, rows[-1].version) if more else None
    return RevisionPage(items=[revision_out(r) for r in rows], next_cursor=next_cursor)


async def one(note_id: uuid.UUID, version: int) -> Revision:
    revision = await Revision.get_or_none(note_id=note_id, version=version)
    if revision is None:
        raise RevisionNotFound(note_id, version)
    return revision
