"""NDJSON import, in the export's format, written through Tortoise in one transaction.

Every line is validated before anything is written, so a bad line (or, with
`on_conflict=fail`, a clash with an existing note) leaves the database untouched.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, ValidationInfo, field_validator
from tortoise.transactions import in_transaction

from notes_service.contract import Body, Tags, Title, UtcDatetime, _Input
from notes_service.errors import Conflict, PayloadTooLarge, ValidationFailed
from notes_service.notes import service, statistics, tags
from notes_service.notes.models import Note
from notes_service.notes.sql import BURIED, NOTE_OWNERS
from notes_service.notes.versioning import new_version, utcnow

OnConflict = Literal["skip", "overwrite", "fail"]
MAX_REPORTED_ERRORS = 20
CONTENT_FIELDS = ("title", "body", "pinned", "archived", "deleted_at")
# An imported time must be one a note can have had: not before the Unix epoch, and not more
# than a day ahead of this server's clock (room for another machine's clock skew).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


def _sane_time(value: datetime) -> datetime:
    if value < EARLIEST:
        raise ValueError("must not be before 1970-01-01T00:00:00Z")
    if value > datetime.now(UTC) + FUTURE_SLACK:
        raise ValueError("must not be more than a day in the future")
    return value


NoteTime = Annotated[UtcDatetime, AfterValidator(_sane_time)]


class ImportedNote(_Input):
    """One export line. `version` and `revisions` are accepted and ignored: an imported note
    starts its own history (an overwrite adds one version to the existing note's)."""

    id: uuid.UUID | None = None
    title: Title
    body: Body = ""
    tags: Tags = Field(default_factory=list)
    pinned: bool = False
    archived: bool = False
    created_at: NoteTime | None = None
    updated_at: NoteTime | None = None
    deleted_at: NoteTime | None = None
    version: int | None = None
    revisions: list[Any] | None = None

    @field_validator("updated_at")
    @classmethod
    def _not_before_created(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        created = info.data.get("created_at")
        if value is not None and created is not None and value < created:
            raise ValueError("must not be before created_at")
        return value


class ImportConflict(Conflict):
    slug, title = "import-conflict", "Imported notes already exist"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0


class LineChecker:
    """Validates NDJSON lines one at a time (numbered from 1; blank lines are skipped),
    collecting up to MAX_REPORTED_ERRORS errors; a repeated id is an error too."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.seen: dict[uuid.UUID, int] = {}

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_REPORTED_ERRORS

    def check(self, number: int, line: bytes | str) -> ImportedNote | None:
        try:
            note = ImportedNote.model_validate_json(line)
        except ValidationError as exc:
            self.errors += [
                {"loc": ["body", number, *e["loc"]], "msg": e["msg"].removeprefix("Value error, ")}
                for e in exc.errors()
            ]
            return None
        if note.id is not None and note.id in self.seen:
            msg = f"repeats the id of line {self.seen[note.id]}"
            self.errors.append({"loc": ["body", number, "id"], "msg": msg})
        elif note.id is not None:
            self.seen[note.id] = number
        return note

    def raise_errors(self, written: str = "nothing was imported") -> None:
        if self.errors:
            first = self.errors[0]["loc"][1]
            raise ValidationFailed(self.errors, f"line {first} is not a valid note; {written}")


class TooManyLines(PayloadTooLarge):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"An import request holds at most {limit} notes (NOTES_IMPORT_MAX_LINES); "
            "split the file, or import it with `notes-service import`"
        )


def numbered(lines: Iterable[bytes | str]) -> Iterator[tuple[int, bytes | str]]:
    """The non-blank lines with their line numbers (from 1)."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


def parse_lines(lines: Iterable[bytes | str], max_lines: int | None = None) -> list[ImportedNote]:
    """Validate every line or raise a 422 naming the bad ones (413 past `max_lines` notes)."""
    checker = LineChecker()
    notes: list[ImportedNote] = []
    for number, line in numbered(lines):
        if max_lines is not None and len(notes) >= max_lines:
            raise TooManyLines(max_lines)
        note = checker.check(number, line)
        if note is not None:
            notes.append(note)
        if checker.full:
            break
    checker.raise_errors()
    return notes


def _new_note(owner_id: int, item: ImportedNote, note_id: uuid.UUID) -> Note:
    created = item.created_at or utcnow()
    return Note(
        id=note_id,
        owner_id=owner_id,
        title=item.title,
        body=item.body,
        pinned=item.pinned,
        archived=item.archived,
        version=1,
        created_at=created,
        updated_at=item.updated_at or created,
        deleted_at=item.deleted_at,
    )


async def import_notes(
    owner_id: int,
    items: list[ImportedNote],
    on_conflict: OnConflict,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    result = ImportResult()
    async with in_transaction() as db:
        ids = [item.id for item in items if item.id is not None]
        # One array bind each, never one bind per id: a statement takes at most 32,767.
        _, rows = await db.execute_query(NOTE_OWNERS, [ids])
        owners = {row["id"]: row["owner_id"] for row in rows}
        mine = {note_id for note_id, owner in owners.items() if owner == owner_id}
        # An id that any owner's tombstone holds is taken too: reusing it would put a note and
        # a deletion of the same id in the feeds (and let a later delete replace a tombstone).
        _, rows = await db.execute_query(BURIED, [ids])
        buried = {row["id"] for row in rows}
        if mine and on_conflict == "fail":
            raise ImportConflict(
                f"{len(mine)} of these notes already exist (e.g. {min(mine)}); "
                "retry with on_conflict=skip or on_conflict=overwrite"
            )
        fresh: list[tuple[Note, ImportedNote]] = []
        for item in items:
            if item.id in mine:
                if on_conflict == "skip" or not await _overwrite(db, owner_id, item):
                    result.skipped += 1
                else:
                    result.updated += 1
            else:
                # An id held by another owner, or deleted, is never reused: a new note, new id.
                note_id = item.id
                if note_id is None or note_id in owners or note_id in buried:
                    note_id = uuid.uuid4()
                fresh.append((_new_note(owner_id, item, note_id), item))
            if progress is not None:
                progress(1)
        await service.insert_notes(db, owner_id, [(note, item.tags) for note, item in fresh])
        result.created = len(fresh)
    await statistics.analyze_if_stale(result.created + result.updated)
    return result


async def _overwrite(db: Any, owner_id: int, item: ImportedNote) -> bool:
    note = await Note.select_for_update().get(id=item.id, owner_id=owner_id)
    current = await tags.names_of(db, note.id)
    changes = {
        field: getattr(item, field)
        for field in CONTENT_FIELDS
        if getattr(item, field) != getattr(note, field)
    }
    if not changes and current == item.tags:
        return False
    await new_version(db, note, changes, current, item.tags if item.tags != current else None)
    return True
