from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from notes_service.queries import sql
from notes_service.queries.database import ReadDatabase, Row


@dataclass(frozen=True, slots=True)
class NoteFilter:
    tags: tuple[str, ...] = ()
    pinned: bool | None = None
    archived: bool = False
    trashed: bool = False
    updated_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where the previous page ended. `as_of` hides notes updated after the first page was
    served: in an updated_at sort they would move behind the cursor and show up twice."""

    sort_value: datetime
    id: uuid.UUID
    as_of: datetime | None


class NoteQueries:
    def __init__(self, db: ReadDatabase) -> None:
        self._db = db

    async def list_notes(
        self,
        owner_id: int,
        filters: NoteFilter,
        sort: str,
        limit: int,
        after: Position | None = None,
    ) -> list[Row]:
        values: dict[str, object] = {
            "owner_id": owner_id,
            "tags": list(filters.tags),
            "pinned": filters.pinned,
            "archived": filters.archived,
            "trashed": filters.trashed,
            "updated_after": filters.updated_after,
            "as_of": after.as_of if after else None,
            "limit": limit,
        }
        if after is not None:
            values |= {"after_ts": after.sort_value, "after_id": after.id}
        return await self._db.fetch_all(sql.LIST_NOTES[sort, after is not None], values)

    async def search(
        self,
        owner_id: int,
        q: str,
        tags: tuple[str, ...],
        mode: str,
        limit: int,
        after: tuple[float, uuid.UUID] | None,
    ) -> list[Row]:
        values: dict[str, object] = {
            "owner_id": owner_id,
            "q": q,
            "tags": list(tags),
            "limit": limit,
        }
        if after is not None:
            values |= {"after_rank": after[0], "after_id": after[1]}
        return await self._db.fetch_all(sql.SEARCH[mode, after is not None], values)

    async def tag_counts(self, owner_id: int) -> list[Row]:
        return await self._db.fetch_all(sql.TAG_COUNTS, {"owner_id": owner_id})

    async def stats(self, owner_id: int) -> Row:
        row = await self._db.fetch_one(sql.STATS, {"owner_id": owner_id})
        assert row is not None  # an aggregate always yields one row
        return row

    async def changes(self, owner_id: int, after: tuple[str, int], limit: int) -> list[Row]:
        values = {"owner_id": owner_id, "after_xid": after[0], "after_seq": after[1]}
        return await self._db.fetch_all(sql.CHANGES, values | {"limit": limit})

    async def export_notes(
        self, owner_id: int, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[Row]:
        if after is None:
            return await self._db.fetch_all(
                sql.EXPORT_FIRST_NOTES, {"owner_id": owner_id, "limit": limit}
            )
        values = {"after_created_at": after[0], "after_id": after[1]}
        return await self._db.fetch_all(
            sql.EXPORT_NEXT_NOTES, {"owner_id": owner_id, "limit": limit} | values
        )

    async def export_revisions(
        self, note_id: uuid.UUID, after_version: int, limit: int
    ) -> list[Row]:
        values = {"note_id": note_id, "after_version": after_version, "limit": limit}
        return await self._db.fetch_all(sql.EXPORT_REVISIONS, values)
