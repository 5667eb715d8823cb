"""Tag links on the write side. Raw SQL, run on the caller's transaction connection: one
statement per step whatever the number of notes, which keeps a 100-note batch cheap."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from tortoise import BaseDBAsyncClient

# Names go in sorted, so two transactions that create the same new tags take their
# unique-index locks in the same order and cannot deadlock each other.
UPSERT_TAGS = """
INSERT INTO tags (owner_id, name)
SELECT $1, name FROM unnest($2::text[]) AS new(name) ORDER BY name COLLATE "C"
ON CONFLICT (owner_id, name) DO NOTHING
"""

LINK_TAGS = """
INSERT INTO note_tags (note_id, tag_id)
SELECT pair.note_id, tags.id
FROM unnest($2::uuid[], $3::text[]) AS pair(note_id, name)
JOIN tags ON tags.owner_id = $1 AND tags.name = pair.name
"""

UNLINK_TAGS = """
DELETE FROM note_tags
WHERE note_id = $2
  AND tag_id IN (SELECT id FROM tags WHERE owner_id = $1 AND name = ANY($3::text[]))
"""

TAG_NAMES = """
SELECT tags.name FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
WHERE note_tags.note_id = $1
"""


async def names_of(db: BaseDBAsyncClient, note_id: uuid.UUID) -> list[str]:
    _, rows = await db.execute_query(TAG_NAMES, [note_id])
    return sorted(row["name"] for row in rows)


async def link(
    db: BaseDBAsyncClient, owner_id: int, links: Iterable[tuple[uuid.UUID, Sequence[str]]]
) -> None:
    """Link each note to its tags, creating the owner's tags that do not exist yet."""
    pairs = [(note_id, name) for note_id, names in links for name in names]
    if not pairs:
        return
    await db.execute_query(UPSERT_TAGS, [owner_id, sorted({name for _, name in pairs})])
    await db.execute_query(
        LINK_TAGS, [owner_id, [note_id for note_id, _ in pairs], [name for _, name in pairs]]
    )


async def replace(
    db: BaseDBAsyncClient,
    owner_id: int,
    note_id: uuid.UUID,
    current: Sequence[str],
    wanted: Sequence[str],
) -> None:
    # Tags left without notes stay in `tags`: deleting them here would race with a concurrent
    # writer linking the same tag. Every reader counts links, so they are never listed.
    removed = sorted(set(current) - set(wanted))
    added = sorted(set(wanted) - set(current))
    if removed:
        await db.execute_query(UNLINK_TAGS, [owner_id, note_id, removed])
    await link(db, owner_id, [(note_id, added)])
