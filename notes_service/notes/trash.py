"""Trash, restore and permanent deletion. A permanent delete leaves a tombstone (id, owner,
version, time) for the change feed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from tortoise.transactions import in_transaction

from notes_service.contract import NoteOut
from notes_service.notes import tags
from notes_service.notes.conditional import EntityTags
from notes_service.notes.errors import NoteNotFound
from notes_service.notes.models import Note, Revision, Tombstone
from notes_service.notes.versioning import (
    locked,
    new_version,
    note_out,
    require_match,
    utcnow,
)

PURGE_CHUNK = 500
# All that a purge needs of a note (not its body, which can be 100,000 characters).
TOMBSTONE_FIELDS = ("id", "owner_id", "version")


async def trash_note(owner_id: int, note_id: uuid.UUID, if_match: EntityTags | None) -> None:
    async with in_transaction() as db:
        note = await locked(owner_id, note_id)
        if note.deleted_at is not None:
            # Already in the trash: DELETE is idempotent, and a retry that carries the ETag it
            # sent the first time must not turn into a 412 (RFC 9110 §13.1.1 allows the 2xx).
            return
        require_match(if_match, note)
        now = utcnow()
        await new_version(
            db, note, {"deleted_at": now}, await tags.names_of(db, note.id), None, now
        )


async def restore_note(owner_id: int, note_id: uuid.UUID, if_match: EntityTags | None) -> NoteOut:
    async with in_transaction() as db:
        note = await locked(owner_id, note_id)
        require_match(if_match, note)
        current = await tags.names_of(db, note.id)
        if note.deleted_at is None:
            return note_out(note, current)  # not in the trash: nothing to restore
        return await new_version(db, note, {"deleted_at": None}, current, None)


async def _remove(notes: Sequence[Note]) -> None:
    """Delete notes for good, leaving tombstones. Links go with the notes (ON DELETE CASCADE)."""
    ids = [n.id for n in notes]
    now = utcnow()
    # Imports no longer reuse a deleted id, but one may have come back before they stopped: its
    # newest deletion wins. Only the owner's own tombstones: another owner's are never touched.
    for owner_id in {n.owner_id for n in notes}:
        owned = [n.id for n in notes if n.owner_id == owner_id]
        await Tombstone.filter(id__in=owned, owner_id=owner_id).delete()
    await Tombstone.bulk_create(
        [
            Tombstone(id=n.id, owner_id=n.owner_id, version=n.version + 1, deleted_at=now)
            for n in notes
        ]
    )
    await Revision.filter(note_id__in=ids).delete()
    await Note.filter(id__in=ids).delete()


async def delete_permanently(
    owner_id: int, note_id: uuid.UUID, if_match: EntityTags | None
) -> None:
    async with in_transaction():
        note = await Note.select_for_update().get_or_none(id=note_id, owner_id=owner_id)
        if note is None:
            if await Tombstone.exists(id=note_id, owner_id=owner_id):
                return  # deleted already: the retry of a permanent DELETE succeeds too
            raise NoteNotFound(note_id)
        require_match(if_match, note)
        await _remove([note])


async def empty_trash(owner_id: int) -> int:
    async with in_transaction():
        notes = (
            await Note.filter(owner_id=owner_id, deleted_at__isnull=False)
            .select_for_update()
            .only(*TOMBSTONE_FIELDS)
        )
        if notes:
            await _remove(notes)
    return len(notes)


async def purge_trash(older_than: timedelta) -> int:
    """Every owner's notes trashed longer ago than `older_than`, in chunks of one transaction
    each, so a large purge neither holds locks for long nor grows one huge transaction."""
    cutoff = utcnow() - older_than
    purged = 0
    while True:
        async with in_transaction():
            # SKIP LOCKED: a note being restored right now is left for the next run.
            notes = (
                await Note.filter(deleted_at__lt=cutoff)
                .select_for_update(skip_locked=True)
                .order_by("deleted_at")
                .limit(PURGE_CHUNK)
                .only(*TOMBSTONE_FIELDS)
            )
            if notes:
                await _remove(notes)
        purged += len(notes)
        if len(notes) < PURGE_CHUNK:
            return purged
