"""Write side: creates, updates and revision restores go through Tortoise, and each multi-query
write runs in one explicit transaction. Every change bumps the version and writes the matching
revision in that same transaction (see versions.py). Trash and deletion are in trash.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from tortoise import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from notes_service.cursors import CursorCodec
from notes_service.notes import idempotency, revisions, tags
from notes_service.notes.conditional import EntityTags
from notes_service.notes.idempotency import IdempotencyKey, Outcome
from notes_service.notes.models import Note
from notes_service.notes.schemas import (
    NoteCreate,
    NoteOut,
    NoteUpdate,
    RevisionOut,
    RevisionPage,
)
from notes_service.notes.versions import (
    NoteNotFound,
    NoteTrashed,
    locked,
    new_version,
    note_out,
    require_match,
    utcnow,
)

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


# New notes with revision 1 and their tags, in one statement (one round trip inside the caller's
# transaction, whatever the number of notes). $1-$3 are the tag binds of tags.TAG_LINKS; then one
# array per column, element i for note i. The rows are those Tortoise would write: every column
# of `Note` (the database fills the change-feed columns), and the revision `revisions.snapshot`
# describes. Foreign keys are checked at the end of the statement, when the notes exist.
# `tag_names` (the row's copy of its links) comes from the same JSON as the revision's tags:
# the distinct names sorted by code point (`tag_names_of`), in that order.
INSERT_NOTES = f"""
WITH note_rows AS (
    SELECT * FROM unnest($4::uuid[], $5::text[], $6::text[], $7::bool[], $8::bool[], $9::int[],
                         $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::text[])
        AS n(id, title, body, pinned, archived, version, created_at, updated_at, deleted_at,
             tags)
), new_notes AS (
    INSERT INTO notes (id, owner_id, title, body, pinned, archived, version,
                       created_at, updated_at, deleted_at, tag_names)
    SELECT id, $1, title, body, pinned, archived, version, created_at, updated_at, deleted_at,
           ARRAY(SELECT e FROM jsonb_array_elements_text(CAST(tags AS jsonb))
                     WITH ORDINALITY AS x(e, k) ORDER BY k)
    FROM note_rows
), new_revisions AS (
    INSERT INTO revisions (note_id, version, title, body, tags, pinned, archived, deleted,
                           created_at)
    SELECT id, version, title, body, CAST(tags AS jsonb), pinned, archived,
           deleted_at IS NOT NULL, updated_at
    FROM note_rows
), {tags.TAG_LINKS}
SELECT count(*) AS linked FROM links
"""  # noqa: S608 (built from constants only)
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
    return outcome


async def _get(owner_id: int, note_id: uuid.UUID) -> Note:
    note = await Note.get_or_none(id=note_id, owner_id=owner_id)
    if note is None:
        raise NoteNotFound(note_id)
    return note


# The hottest read of the write side: one constant statement (prepared once per connection;
# the tags are the row's own copy, `tag_names`) instead of two QuerySets rebuilt on every
# request. Columns in NoteOut's order, so the row serialises to the same JSON.
GET_NOTE = """
SELECT n.id, n.title, n.body, n.tag_names AS tags,
       n.pinned, n.archived, n.version, n.created_at, n.updated_at, n.deleted_at
FROM notes n
WHERE n.id = $1 AND n.owner_id = $2
"""


async def get_note(owner_id: int, note_id: uuid.UUID) -> NoteOut:
    rows = await Note._meta.db.execute_query_dict(GET_NOTE, [note_id, owner_id])
    if not rows:
        raise NoteNotFound(note_id)
    return NoteOut.model_validate(rows[0])


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
