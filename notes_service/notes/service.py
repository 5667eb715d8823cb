"""Write side: every create, update and delete goes through Tortoise, multi-query writes in one
explicit transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from notes_service.notes.models import Note
from notes_service.notes.schemas import NoteCreate, NoteUpdate
from notes_service.problems import Conflict, NotFound


class NoteNotFound(NotFound):
    def __init__(self, note_id: uuid.UUID) -> None:
        super().__init__(f"Note {note_id} does not exist")


class NoteTrashed(Conflict):
    slug, title = "note-trashed", "The note is in the trash"

    def __init__(self, note_id: uuid.UUID) -> None:
        super().__init__(f"Note {note_id} is in the trash; restore it before editing")


def _now() -> datetime:
    return datetime.now(UTC)


async def create_note(owner_id: int, data: NoteCreate) -> Note:
    now = _now()
    return await Note.create(
        id=uuid.uuid4(),
        owner_id=owner_id,
        title=data.title,
        body=data.body,
        pinned=data.pinned,
        archived=data.archived,
        version=1,
        created_at=now,
        updated_at=now,
    )


async def get_note(owner_id: int, note_id: uuid.UUID) -> Note:
    note = await Note.get_or_none(id=note_id, owner_id=owner_id)
    if note is None:
        raise NoteNotFound(note_id)
    return note


async def update_note(owner_id: int, note_id: uuid.UUID, patch: NoteUpdate) -> Note:
    async with in_transaction():
        # The row lock serialises concurrent writers, so each change gets its own version.
        note = await Note.select_for_update().get_or_none(id=note_id, owner_id=owner_id)
        if note is None:
            raise NoteNotFound(note_id)
        if note.deleted_at is not None:
            raise NoteTrashed(note_id)
        changes = {k: v for k, v in patch.changes().items() if getattr(note, k) != v}
        if not changes:
            return note
        for field, value in changes.items():
            setattr(note, field, value)
        note.version += 1
        note.updated_at = _now()
        await note.save(update_fields=[*changes, "version", "updated_at"])
    return note


async def trash_note(owner_id: int, note_id: uuid.UUID) -> None:
    async with in_transaction():
        note = await Note.select_for_update().get_or_none(id=note_id, owner_id=owner_id)
        if note is None:
            raise NoteNotFound(note_id)
        if note.deleted_at is not None:
            return  # already in the trash: DELETE is idempotent
        now = _now()
        note.deleted_at = now
        note.updated_at = now
        note.version += 1
        await note.save(update_fields=["deleted_at", "updated_at", "version"])
