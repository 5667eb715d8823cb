"""What every change to a note shares: the row lock, the If-Match check, and the new version
with its revision, all inside the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise import BaseDBAsyncClient

from notes_service.contract import NoteOut
from notes_service.errors import PreconditionFailed
from notes_service.notes import revisions, tags
from notes_service.notes.conditional import EntityTags, etag
from notes_service.notes.errors import NoteNotFound
from notes_service.notes.models import Note


def utcnow() -> datetime:
    return datetime.now(UTC)


def note_out(note: Note, tag_names: Sequence[str]) -> NoteOut:
    return NoteOut(
        id=note.id,
        title=note.title,
        body=note.body,
        tags=list(tag_names),
        pinned=note.pinned,
        archived=note.archived,
        version=note.version,
        created_at=note.created_at,
        updated_at=note.updated_at,
        deleted_at=note.deleted_at,
    )


async def locked(owner_id: int, note_id: uuid.UUID) -> Note:
    # The row lock serialises writers of one note: the version each one reads under it is the
    # version it replaces, so the If-Match check and the write are atomic.
    note = await Note.select_for_update().get_or_none(id=note_id, owner_id=owner_id)
    if note is None:
        raise NoteNotFound(note_id)
    return note


def require_match(if_match: EntityTags | None, note: Note) -> None:
    if if_match is not None and not if_match.strong_match(etag(note.id, note.version)):
        raise PreconditionFailed(
            f"Note {note.id} has changed since that ETag (it is at version {note.version}); "
            "fetch it again"
        )


async def new_version(
    db: BaseDBAsyncClient,
    note: Note,
    changes: dict[str, Any],
    current_tags: list[str],
    new_tags: list[str] | None,
    now: datetime | None = None,
) -> NoteOut:
    for field, value in changes.items():
        setattr(note, field, value)
    note.version += 1
    note.updated_at = now or utcnow()
    copied: list[str] = []
    if new_tags is not None:
        # The row's copy of its links changes with them, in this transaction, under the row lock.
        note.tag_names = tags.tag_names_of(new_tags)
        copied = ["tag_names"]
    await note.save(update_fields=[*changes, *copied, "version", "updated_at"])
    if new_tags is not None:
        await tags.replace(db, note.owner_id, note.id, current_tags, new_tags)
    tag_names = current_tags if new_tags is None else new_tags
    await revisions.record(note, tag_names)
    return note_out(note, tag_names)
