"""`notes-service export` and `import`: NDJSON on stdout and from a file, with progress."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from notes_service.platform.settings import Settings

if TYPE_CHECKING:
    from notes_service.notes.importer import ImportedNote, OnConflict


class Progress:
    """A one-line progress bar on stderr (a final count when stderr is not a terminal)."""

    def __init__(self, label: str, total: int, stream: TextIO = sys.stderr) -> None:
        self.label, self.total, self.done, self.stream = label, total, 0, stream
        self.live = stream.isatty()

    def advance(self, step: int = 1) -> None:
        self.done += step
        if self.live and (self.done % 100 == 0 or self.done == self.total):
            self._draw()

    def _draw(self) -> None:
        width = 30
        filled = width * self.done // self.total if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self._draw()
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.label}: {self.done}/{self.total}\n")


async def export_owner(settings: Settings, owner: str, revisions: bool) -> int:
    from notes_service.platform.read_db import ReadDatabase
    from notes_service.queries import sql
    from notes_service.queries.export import export_lines
    from notes_service.queries.repository import NoteQueries

    db = ReadDatabase(settings)
    await db.connect()
    try:
        row = await db.fetch_one(sql.OWNER_ID, {"name": owner})
        if row is None:
            print(f"notes-service: no owner named {owner!r}", file=sys.stderr)
            return 1
        queries = NoteQueries(db)
        total = await queries.stats(row["id"])
        progress = Progress("exported", int(total["notes"]) + int(total["trashed"]))
        out = sys.stdout.buffer
        async for line in export_lines(queries, row["id"], revisions):
            out.write(line)
            if line.endswith(b"\n"):  # with --revisions a note comes in several pieces
                progress.advance()
        out.flush()
        progress.close()
        return 0
    finally:
        await db.disconnect()


# Notes per transaction of a CLI import: each chunk commits on its own, so memory stays flat
# and no transaction holds the change feed back for long, whatever the file's size.
IMPORT_CHUNK_LINES = 1000


def _validate_file(path: Path, chunk_lines: int) -> int:
    """First pass: validate every line, keeping nothing; the number of notes in the file. A
    repeated id is an error within one chunk; across chunks (remembering every id would grow
    with the file) the later line meets the note the earlier one wrote, as `on_conflict` says."""
    from notes_service.notes.importer import LineChecker, numbered

    checker, total = LineChecker(), 0
    with path.open("rb") as handle:
        for number, line in numbered(handle):
            checker.check(number, line)
            total += 1
            if total % chunk_lines == 0:
                checker.seen.clear()
            if checker.full:
                break
    checker.raise_errors()
    return total


def _chunks(path: Path, size: int) -> Iterator[tuple[int, int, list[ImportedNote]]]:
    """(first line number, last line number, notes) for every `size` notes of the file."""
    from notes_service.notes.importer import LineChecker, numbered

    checker = LineChecker()
    chunk: list[ImportedNote] = []
    first = 0
    with path.open("rb") as handle:
        for number, line in numbered(handle):
            first = first or number
            note = checker.check(number, line)
            checker.raise_errors("the file changed while it was imported")
            assert note is not None
            chunk.append(note)
            if len(chunk) == size:
                yield first, number, chunk
                checker, chunk, first = LineChecker(), [], 0
        if chunk:
            yield first, number, chunk


async def import_owner(
    settings: Settings,
    owner: str,
    path: Path,
    on_conflict: OnConflict,
    chunk_lines: int = IMPORT_CHUNK_LINES,
) -> int:
    from tortoise import Tortoise

    from notes_service.accounts.models import Owner
    from notes_service.errors import AppError
    from notes_service.notes import importer
    from notes_service.platform.db import tortoise_config
    from notes_service.platform.logs import describe_error

    try:
        total = _validate_file(path, chunk_lines)
    except AppError as exc:
        errors = exc.extra.get("errors", [])[:5]
        print(f"notes-service: {exc.detail}", file=sys.stderr)
        for error in errors:
            print(f"  line {error['loc'][1]}: {error['msg']}", file=sys.stderr)
        return 1
    await Tortoise.init(config=tortoise_config(settings))
    try:
        owner_row, _ = await Owner.get_or_create(name=owner)
        progress = Progress("imported", total)
        done = importer.ImportResult()
        for first, last, items in _chunks(path, chunk_lines):
            try:
                result = await importer.import_notes(
                    owner_row.id, items, on_conflict, progress.advance
                )
            except Exception as exc:  # any failure: say which lines, and what was kept
                progress.close()
                reason = exc.detail if isinstance(exc, AppError) else describe_error(exc)
                # The importer speaks HTTP (on_conflict=skip); here the flag is the spelling.
                reason = re.sub(r"\bon_conflict=(\w+)", r"--on-conflict \1", reason)
                if first == 1:
                    kept, rerun = "nothing was imported", "rerun"
                else:
                    kept = (
                        f"lines before {first} were imported (created {done.created}, "
                        f"updated {done.updated}, skipped {done.skipped})"
                    )
                    rerun = f"rerun from line {first}"
                print(
                    f"notes-service: lines {first}-{last} were not imported: {reason}\n"
                    f"notes-service: {kept}; fix the file and {rerun}, or with --on-conflict skip",
                    file=sys.stderr,
                )
                return 1
            done.created += result.created
            done.updated += result.updated
            done.skipped += result.skipped
        progress.close()
        print(f"created {done.created}, updated {done.updated}, skipped {done.skipped}")
        return 0
    finally:
        await Tortoise.close_connections()


def run_export(settings: Settings, owner: str, revisions: bool) -> int:
    return asyncio.run(export_owner(settings, owner, revisions))


def run_import(settings: Settings, owner: str, path: Path, on_conflict: OnConflict) -> int:
    return asyncio.run(import_owner(settings, owner, path, on_conflict))
