"""Every raw SQL statement of the read side, as named constants with `:name` binds."""

from __future__ import annotations

NOTE_COLUMNS = "id, title, body, pinned, archived, version, created_at, updated_at, deleted_at"

LIST_NOTES = f"""
SELECT {NOTE_COLUMNS}
FROM notes
WHERE owner_id = :owner_id AND deleted_at IS NULL
ORDER BY updated_at DESC, id DESC
LIMIT :limit
"""
