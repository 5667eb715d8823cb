from __future__ import annotations

from notes_service.queries import sql
from notes_service.queries.database import ReadDatabase, Row


class NoteQueries:
    def __init__(self, db: ReadDatabase) -> None:
        self._db = db

    async def list_notes(self, owner_id: int, limit: int) -> list[Row]:
        return await self._db.fetch_all(sql.LIST_NOTES, {"owner_id": owner_id, "limit": limit})
