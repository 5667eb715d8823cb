"""Write side: creates, updates and revision restores go through Tortoise, and each multi-query
write runs in one explicit transaction. Every change bumps the version and writes the matching
revision in that same transaction (see versioning.py). Trash and deletion are in trash.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson
from tortoise import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from notes_service.contract import (
    NoteCreate,
    NoteOut,
    NoteUpdate,
    RevisionOut,
    RevisionPage,
)
from notes_service.cursors import CursorCodec
from notes_service.notes import idempotency, revisions, statistics, tags, trash
from notes_service.notes.conditional import EntityTags
from notes_service.notes.errors import NoteNotFound, NoteTrashed
from notes_service.notes.idempotency import IdempotencyKey, Outcome
from notes_service.notes.models import Note
from notes_service.notes.sql import GET_NOTE, INSERT_NOTES
from notes_service.notes.versioning import (
    locked,
    new_version,
    note_out,
    require_match,
    utcnow,
)

if TYPE_CHECKING:
    from notes_service.notes.importer import ImportResult, OnConflict

CONTENT_FIELDS = ("title", "body", "pinned", "archived")


async def _insert(
    db: BaseDBAsyncClient, owner_id: int, items: Sequence[NoteCreate]
) -> list[NoteOut]:
    now = utcnow()
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
    return await insert_notes(db, owner_id, list(zip(notes, [i.tags for i in items], strict=True)))


# Notes per statement: one array bind holds any number, but a huge import is kept to statements
# of a bounded size.
INSERT_CHUNK = 1000


async def insert_notes(
    db: BaseDBAsyncClient, owner_id: int, notes: Sequence[tuple[Note, list[str]]]
) -> list[NoteOut]:
    """Insert new notes with their tags and revision 1, on the caller's transaction."""
    for start in range(0, len(notes), INSERT_CHUNK):
        chunk = notes[start : start + INSERT_CHUNK]
        pairs = tags.pairs_of((note.id, names) for note, names in chunk)
        columns = [
            [note.id for note, _ in chunk],
            [note.title for note, _ in chunk],
            [note.body for note, _ in chunk],
            [note.pinned for note, _ in chunk],
            [note.archived for note, _ in chunk],
            [note.version for note, _ in chunk],
            [note.created_at for note, _ in chunk],
            [note.updated_at for note, _ in chunk],
            [note.deleted_at for note, _ in chunk],
            [orjson.dumps(tags.tag_names_of(names)).decode() for _, names in chunk],
        ]
        _, rows = await db.execute_query(INSERT_NOTES, [owner_id, *pairs, *columns])
        await tags.link_missing(db, owner_id, pairs, rows[0]["linked"])
    return [note_out(note, names) for note, names in notes]


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
    await statistics.analyze_if_stale(len(notes))
    return outcome


async def _get(owner_id: int, note_id: uuid.UUID) -> Note:
    note = await Note.get_or_none(id=note_id, owner_id=owner_id)
    if note is None:
        raise NoteNotFound(note_id)
    return note


async def get_note_json(owner_id: int, note_id: uuid.UUID) -> tuple[bytes, int]:
    """The note as its JSON body (what `NoteOut.model_dump_json()` gives), and its version:
    the row goes straight to orjson, with no model in between."""
    rows = await Note._meta.db.execute_query_dict(GET_NOTE, [note_id, owner_id])
    if not rows:
        raise NoteNotFound(note_id)
    row = rows[0]
    row["id"] = note_id  # the same value; asyncpg's UUID type is not one orjson knows
    return orjson.dumps(row, option=orjson.OPT_UTC_Z), row["version"]


def _content_changes(
    note: Note, fields: dict[str, Any], current_tags: list[str]
) -> tuple[dict[str, Any], list[str] | None]:
    wanted_tags = fields.pop("tags", None)
    changes = {k: v for k, v in fields.items() if getattr(note, k) != v}
    new_tags = None if wanted_tags is None or wanted_tags == current_tags else wanted_tags
    return changes, new_tags


async def _locked_live(owner_id: int, note_id: uuid.UUID, if_match: EntityTags | None) -> Note:
    """The note, row-locked for this transaction; it must match `if_match` and not be trashed."""
    note = await locked(owner_id, note_id)
    require_match(if_match, note)
    if note.deleted_at is not None:
        raise NoteTrashed(note_id)
    return note


async def update_note(
    owner_id: int, note_id: uuid.UUID, patch: NoteUpdate, if_match: EntityTags | None
) -> NoteOut:
    async with in_transaction() as db:
        note = await _locked_live(owner_id, note_id, if_match)
        current = await tags.names_of(db, note.id)
        changes, new_tags = _content_changes(note, patch.changes(), current)
        if not changes and new_tags is None:
            return note_out(note, current)
        return await new_version(db, note, changes, current, new_tags)


async def restore_revision(
    owner_id: int, note_id: uuid.UUID, version: int, if_match: EntityTags | None
) -> NoteOut:
    async with in_transaction() as db:
        note = await _locked_live(owner_id, note_id, if_match)
        revision = await revisions.one(note.id, version)
        current = await tags.names_of(db, note.id)
        fields = {k: getattr(revision, k) for k in CONTENT_FIELDS}
        fields["tags"] = sorted(revision.tags)
        changes, new_tags = _content_changes(note, fields, current)
        if not changes and new_tags is None:
            return note_out(note, current)  # already equal to revision n: nothing to write
        return await new_version(db, note, changes, current, new_tags)


async def list_revisions(
    owner_id: int, note_id: uuid.UUID, cursor: str | None, limit: int, codec: CursorCodec
) -> RevisionPage:
    await _get(owner_id, note_id)
    return await revisions.page(note_id, cursor, limit, codec)


async def get_revision(owner_id: int, note_id: uuid.UUID, version: int) -> RevisionOut:
    await _get(owner_id, note_id)
    return revisions.revision_out(await revisions.one(note_id, version))


# The rest of the write side, behind this one entry: the trash (trash.py), the import
# (importer.py) and Idempotency-Key records (idempotency.py) hold the work.


async def trash_note(owner_id: int, note_id: uuid.UUID, if_match: EntityTags | None) -> None:
    await trash.trash_note(owner_id, note_id, if_match)


async def restore_note(owner_id: int, note_id: uuid.UUID, if_match: EntityTags | None) -> NoteOut:
    return await trash.restore_note(owner_id, note_id, if_match)


async def delete_permanently(
    owner_id: int, note_id: uuid.UUID, if_match: EntityTags | None
) -> None:
    await trash.delete_permanently(owner_id, note_id, if_match)


async def empty_trash(owner_id: int) -> int:
    return await trash.empty_trash(owner_id)


async def purge(older_than: timedelta, idempotency_ttl: timedelta) -> tuple[int, int]:
    """Housekeeping on one schedule: notes trashed longer ago than `older_than`, and expired
    Idempotency-Key records. The numbers of each removed."""
    notes = await trash.purge_trash(older_than)
    keys = await idempotency.purge_expired(idempotency_ttl)
    return notes, keys


def idempotency_key(
    key: str | None, method: str, path: str, body: bytes, ttl: timedelta
) -> IdempotencyKey | None:
    if key is None:
        return None
    return IdempotencyKey(key=key, fingerprint=idempotency.fingerprint(method, path, body), ttl=ttl)


async def import_ndjson(
    owner_id: int, body: bytes, on_conflict: OnConflict, max_lines: int
) -> ImportResult:
    """An NDJSON request body, validated whole, then written in one transaction."""
    # Imported here: the importer writes its new notes through `insert_notes` above.
    from notes_service.notes import importer

    items = importer.parse_lines(body.splitlines(), max_lines=max_lines)
    return await importer.import_notes(owner_id, items, on_conflict)
