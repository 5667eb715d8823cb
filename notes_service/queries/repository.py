from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from notes_service.cursors import Position, SearchPosition
from notes_service.platform.read_db import ReadDatabase, Row
from notes_service.queries import search_sql, search_text, sql


@dataclass(frozen=True, slots=True)
class NoteFilter:
    tags: tuple[str, ...] = ()
    pinned: bool | None = None
    archived: bool = False
    trashed: bool = False
    updated_after: datetime | None = None


# Whether a query holds a common word (`search_sql.IS_COMMON`) is kept per query text for a few
# minutes: one extra statement the first time a worker sees a query, none on repeats. A stale
# answer only picks the slower of two plans for the same rows.
_COMMON_TTL_S = 300.0
_COMMON_MAX = 4096


class NoteQueries:
    """The read side's queries; the app keeps one (`app.state.note_queries`)."""

    def __init__(self, db: ReadDatabase, search_rank_limit: int = 1000) -> None:
        self._db = db
        self.search_rank_limit = search_rank_limit
        self._common_words: dict[str, tuple[float, bool]] = {}

    async def list_page(
        self,
        owner_id: int,
        filters: NoteFilter,
        sort: str,
        limit: int,
        after: Position | None = None,
    ) -> Row:
        """`items` (JSON text), `more`, and `last_sort` / `last_id` of the page's last item."""
        statement = sql.list_page(
            sort,
            after=after is not None,
            as_of=after is not None and after.as_of is not None,
            tags=bool(filters.tags),
            pinned=filters.pinned is not None,
            updated_after=filters.updated_after is not None,
        )
        values: dict[str, object] = {
            "owner_id": owner_id,
            "tags": list(filters.tags),
            "pinned": filters.pinned,
            "archived": filters.archived,
            "trashed": filters.trashed,
            "updated_after": filters.updated_after,
            "limit": limit,
        }
        if after is not None:
            values |= {"as_of": after.as_of, "after_ts": after.sort_value, "after_id": after.id}
        return await self._db.fetchrow(statement.sql, statement.args(values))

    async def search_page(
        self,
        owner_id: int,
        q: str,
        tags: tuple[str, ...],
        mode: str,
        limit: int,
        after: SearchPosition | None,
    ) -> Row:
        """`items` (JSON text), `more`, `last_rank` / `last_id`, and the candidate set:
        `candidates` and its oldest note (`oldest_ts`, `oldest_id`)."""
        floor = after is not None and after.floor is not None
        text = search_text.parse(q)
        fuzzy = None
        if mode == "fuzzy" and text.words:
            row = await self._db.fetchrow(search_sql.FUZZY_QUERY, [list(text.words)])
            fuzzy = row["fuzzy"]
        recent = mode == "fts" and not floor and await self.is_common(q)
        generic = mode == "fts" and not floor and not recent
        statement = search_sql.search_page(
            mode,
            tags=bool(tags),
            after=after is not None,
            as_of=after is not None and after.as_of is not None,
            floor=floor,
            recent=recent,
            fuzzy=fuzzy is not None,
            exclude=text.exclude is not None,
            ascii=q.isascii(),
            generic=generic,
        )
        values: dict[str, object] = {
            "owner_id": owner_id,
            "tsquery": text.tsquery,
            "wanted": text.wanted,
            "fuzzy": fuzzy,
            "exclude": text.exclude,
            "tags": list(tags),
            "limit": limit,
            "rank_limit": self.search_rank_limit,
        }
        if after is not None:
            values |= {"after_rank": after.rank, "after_id": after.id, "as_of": after.as_of}
            if after.floor is not None:
                values |= {"floor_ts": after.floor[0], "floor_id": after.floor[1]}
        args = statement.args(values)
        if generic:  # a rare word: prepared once per connection, its plan kept
            return await self._db.fetchrow(statement.sql, args)
        return await self._db.fetchrow_planned(statement.sql, args)

    async def is_common(self, q: str) -> bool:
        now = time.monotonic()
        cached = self._common_words.get(q)
        if cached is not None and now - cached[0] < _COMMON_TTL_S:
            return cached[1]
        row = await self._db.fetchrow(search_sql.IS_COMMON, [q, search_sql.COMMON_SHARE])
        if len(self._common_words) >= _COMMON_MAX:
            self._common_words.clear()
        self._common_words[q] = (now, bool(row["common"]))
        return bool(row["common"])

    async def tag_counts_json(self, owner_id: int) -> str:
        return str((await self._db.fetchrow(sql.TAG_COUNTS_JSON, [owner_id]))["body"])

    async def stats_json(self, owner_id: int) -> str:
        return str((await self._db.fetchrow(sql.STATS_JSON, [owner_id]))["body"])

    async def changes_page(self, owner_id: int, after: tuple[int, int], limit: int) -> Row:
        """`changes` (JSON text), `more`, and `last_tick` / `last_seq` of the page's last change
        (NULL on an empty page)."""
        return await self._db.fetchrow(sql.CHANGES_JSON, [owner_id, after[0], after[1], limit])

    async def stats(self, owner_id: int) -> Row:
        row = await self._db.fetch_one(sql.STATS, {"owner_id": owner_id})
        if row is None:  # an aggregate always yields one row
            raise RuntimeError("the stats statement returned no row")
        return row

    async def changes(self, owner_id: int, after: tuple[int, int], limit: int) -> list[Row]:
        values = {"owner_id": owner_id, "after_tick": after[0], "after_seq": after[1]}
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
