"""Write side: every create, update, trash, restore and delete goes through Tortoise, and each
multi-query write runs in one explicit transaction. Every change bumps the version and writes
the matching revision in that same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from notes_service.notes import idempotency, revisions, tags
from notes_service.notes.conditional import EntityTags, etag
from notes_service.notes.idempotency import IdempotencyKey, Outcome
from notes_service.notes.models import Note, Revision, Tombstone
from notes_service.notes.schemas import (
    NoteCreate,
    NoteOut,
    NoteUpdate,
    RevisionOut,
    RevisionPage,
)
from notes_service.problems import Conflict, NotFound, PreconditionFailed

CONTENT_FIELDS = ("title", "body", "pinned", "archived")
PURGE_CHUNK = 500


class NoteNotFound(NotFound):
    def __init__(self, note_id: uuid.UUID) -> None:
        super().__init__(f"Note {note_id} does not exist")


class NoteTrashed(Conflict):
    slug, title = "note-trashed", "The note is in the trash"

    def __init__(self, note_id: uuid.UUID) -> None:
        super().__init__(f"Note {note_id} is in the trash; restore it before editing")


def _now() -> datetime:
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


async def _insert(
    db: BaseDBAsyncClient, owner_id: int, items: Sequence[NoteCreate]
) -> list[NoteOut]:
    now = _now()
    notes = [
        Note(
            id=uuid.uuid4(),
            owner_id=owner_id,
            title=item.title,
            body=item.body,
            pinned=item.pinned,
            archived=item.archived,
            version=1,
            created_at=now,
            updated_at=now,
        )
        for item in items
    ]
    await Note.bulk_create(notes)
    await tags.link(db, owner_id, [(n.id, item.tags) for n, item in zip(notes, items, strict=True)])
    await Revision.bulk_create(
        [revisions.snapshot(n, item.tags) for n, item in zip(notes, items, strict=True)]
    )
    return [note_out(n, item.tags) for n, item in zip(notes, items, strict=True)]


async def create_note(owner_id: int, data: NoteCreate, key: IdempotencyKey | None) -> Outcome:
    async with in_transaction() as db:
        if key is not None and (stored := await idempotency.replay(db, owner_id, key)):
            return stored
        [note] = await _insert(db, owner_id, [data])
        outcome = Outcome(status=201, body=note.model_dump(mode="json"))
        if key is not None:
            await idempotency.remember(owner_id, key, outcome)
    return outcome


async def create_notes(
    owner_id: int, items: Sequence[NoteCreate], key: IdempotencyKey | None
) -> Outcome:
    async with in_transaction() as db:
        if key is not None and (stored := await idempotency.replay(db, owner_id, key)):
            return stored
        notes = await _insert(db, owner_id, items)
        outcome = Outcome(status=201, body={"items": [n.model_dump(mode="json") for n in notes]})
        if key is not None:
            await idempotency.remember(owner_id, key, outcome)
    return outcome


async def _get(owner_id: int, note_id: uuid.UUID) -> Note:
    note = await Note.get_or_none(id=note_id, owner_id=owner_id)
    if note is None:
        raise NoteNotFound(note_id)
    return note


async def get_note(owner_id: int, note_id: uuid.UUID) -> NoteOut:
    note = await _get(owner_id, note_id)
    return note_out(note, await tags.names_of(Note._meta.db, note.id))


async def _locked(owner_id: int, note_id: uuid.UUID) -> Note:
    # The row lock serialises writers of one note: the version each one reads under it is the
    # version it replaces, so the If-Match check and the write are atomic.
    note = await Note.select_for_update().get_or_none(id=note_id, owner_id=owner_id)
    if note is None:
        raise NoteNotFound(note_id)
    return note


def _require(if_match: EntityTags | None, note: Note) -> None:
    if if_match is not None and not if_match.strong_match(etag(note.id, note.version)):
        raise PreconditionFailed(
            f"Note {note.id} has changed since that ETag (it is at version {note.version}); "
            "fetch it again"
        )


async def _new_version(
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
    note.updated_at = now or _now()
    await note.save(update_fields=[*changes, "version", "updated_at"])
    if new_tags is not None:
        await tags.replace(db, note.owner_id, note.id, current_tags, new_tags)
    tag_names = current_tags if new_tags is None else new_tags
    await revisions.record(note, tag_names)
    return note_out(note, tag_names)


def _content_changes(
    note: Note, fields: dict[str, Any], current_tags: list[str]
) -> tuple[dict[str, Any], list[str] | None]:
    wanted_tags = fields.pop("tags", None)
    changes = {k: v for k, v in fields.items() if getattr(note, k) != v}
    new_tags = None if wanted_tags is None or wanted_tags == current_tags else wanted_tags
    return changes, new_tags


async def update_note(
    owner_id: int, note_id: uuid.UUID, patch: NoteUpdate, if_match: EntityTags | None
) -> NoteOut:
    async with in_transaction() as db:
        note = await _locked(owner_id, note_id)
        _require(if_match, note)
        if note.deleted_at is not None:
            raise NoteTrashed(note_id)
        current = await tags.names_of(db, note.id)
        changes, new_tags = _content_changes(note, patch.changes(), current)
        if not changes and new_tags is None:
            return note_out(note, current)
        return await _new_version(db, note, changes, current, new_tags)


async def restore_revision(
    owner_id: int, note_id: uuid.UUID, version: int, if_match: EntityTags | None
) -> NoteOut:
    async with in_transaction() as db:
        note = await _locked(owner_id, note_id)
        _require(if_match, note)
        if note.deleted_at is not None:
            raise NoteTrashed(note_id)
        revision = await revisions.one(note.id, version)
        current = await tags.names_of(db, note.id)
        fields = {k: getattr(revision, k) for k in CONTENT_FIELDS}
        fields["tags"] = sorted(revision.tags)
        changes, new_tags = _content_changes(note, fields, current)
        if not changes and new_tags is None:
            return note_out(note, current)  # already equal to revision n: nothing to write
        return await _new_version(db, note, changes, current, new_tags)


async def trash_note(owner_id: int, note_id: uuid.UUID, if_match: EntityTags | None) -> None:
    async with in_transaction() as db:
        note = await _locked(owner_id, note_id)
        if note.deleted_at is not None:
            # Already in the trash: DELETE is idempotent, and a retry that carries the ETag it
            # sent the first time must not turn into a 412 (RFC 9110 §13.1.1 allows the 2xx).
            return
        _require(if_match, note)
        now = _now()
        await _new_version(
            db, note, {"deleted_at": now}, await tags.names_of(db, note.id), None, now
        )


async def restore_note(owner_id: int, note_id: uuid.UUID, if_match: EntityTags | None) -> NoteOut:
    async with in_transaction() as db:
        note = await _locked(owner_id, note_id)
        _require(if_match, note)
        current = await tags.names_of(db, note.id)
        if note.deleted_at is None:
            return note_out(note, current)  # not in the trash: nothing to restore
        return await _new_version(db, note, {"deleted_at": None}, current, None)


async def _remove(notes: Sequence[Note]) -> None:
    """Delete notes for good, leaving tombstones. Links go with the notes (ON DELETE CASCADE)."""
    ids = [n.id for n in notes]
    now = _now()
    # An id can come back (an import of an exported note); its newest deletion wins.
    await Tombstone.filter(id__in=ids).delete()
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
        _require(if_match, note)
        await _remove([note])


async def empty_trash(owner_id: int) -> int:
    async with in_transaction():
        notes = await Note.filter(owner_id=owner_id, deleted_at__isnull=False).select_for_update()
        if notes:
            await _remove(notes)
    return len(notes)


async def purge_trash(older_than: timedelta) -> int:
    """Every owner's notes trashed longer ago than `older_than`, in chunks of one transaction
    each, so a large purge neither holds locks for long nor grows one huge transaction."""
    cutoff = _now() - older_than
    purged = 0
    while True:
        async with in_transaction():
            # SKIP LOCKED: a note being restored right now is left for the next run.
            notes = (
                await Note.filter(deleted_at__lt=cutoff)
                .select_for_update(skip_locked=True)
                .order_by("deleted_at")
                .limit(PURGE_CHUNK)
            )
            if notes:
                await _remove(notes)
        purged += len(notes)
        if len(notes) < PURGE_CHUNK:
            return purged


async def list_revisions(
    owner_id: int, note_id: uuid.UUID, cursor: str | None, limit: int
) -> RevisionPage:
    await _get(owner_id, note_id)
    return await revisions.page(note_id, cursor, limit)


async def get_revision(owner_id: int, note_id: uuid.UUID, version: int) -> RevisionOut:
    await _get(owner_id, note_id)
    return revisions.revision_out(await revisions.one(note_id, version))
