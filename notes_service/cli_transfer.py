"""`notes-service export` and `import`: NDJSON on stdout and from a file, with progress."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from notes_service.settings import Settings

if TYPE_CHECKING:
    from notes_service.notes.importer import OnConflict


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
    from notes_service.queries import sql
    from notes_service.queries.database import ReadDatabase
    from notes_service.queries.feeds import export_lines
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
            progress.advance()
        out.flush()
        progress.close()
        return 0
    finally:
        await db.disconnect()


async def import_owner(settings: Settings, owner: str, path: Path, on_conflict: OnConflict) -> int:
    from tortoise import Tortoise

    from notes_service.db import tortoise_config
    from notes_service.notes import importer
    from notes_service.notes.models import Owner
    from notes_service.problems import AppError

    with path.open("rb") as handle:
        try:
            items = importer.parse_lines(handle)
        except AppError as exc:
            errors = exc.extra.get("errors", [])[:5]
            print(f"notes-service: {exc.detail}", file=sys.stderr)
            for error in errors:
                print(f"  line {error['loc'][1]}: {error['msg']}", file=sys.stderr)
            return 1
    await Tortoise.init(config=tortoise_config(settings))
    try:
        owner_row, _ = await Owner.get_or_create(name=owner)
        progress = Progress("imported", len(items))
        try:
            result = await importer.import_notes(
                owner_row.id,
                items,
                on_conflict,
                progress.advance,
            )
        except AppError as exc:
            print(f"notes-service: {exc.detail}", file=sys.stderr)
            return 1
        progress.close()
        print(f"created {result.created}, updated {result.updated}, skipped {result.skipped}")
        return 0
    finally:
        await Tortoise.close_connections()


def run_export(settings: Settings, owner: str, revisions: bool) -> int:
    return asyncio.run(export_owner(settings, owner, revisions))


def run_import(settings: Settings, owner: str, path: Path, on_conflict: OnConflict) -> int:
    return asyncio.run(import_owner(settings, owner, path, on_conflict))
