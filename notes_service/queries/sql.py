"""Every raw SQL statement of the read side, as named constants with `:name` binds."""

from __future__ import annotations

# Tag names sorted by code point (COLLATE "C"), the order the write side returns them in.
NOTE_TAGS = """
COALESCE((SELECT array_agg(tags.name ORDER BY tags.name COLLATE "C")
          FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
          WHERE note_tags.note_id = notes.id), '{}') AS tags"""

NOTE_COLUMNS = (
    "id, title, body, pinned, archived, version, created_at, updated_at, deleted_at, " + NOTE_TAGS
)

LIST_NOTES = f"""
SELECT {NOTE_COLUMNS}
FROM notes
WHERE owner_id = :owner_id AND deleted_at IS NULL
ORDER BY updated_at DESC, id DESC
LIMIT :limit
"""
