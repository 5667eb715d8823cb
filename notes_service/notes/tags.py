"""Tag links on the write side. Raw SQL, run on the caller's transaction connection: one
statement per step whatever the number of notes, which keeps a 100-note batch cheap."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from tortoise import BaseDBAsyncClient

# Upsert the owner's tags and link them, in one statement: $1 owner id, $2 and $3 the (note id,
# tag name) pairs. A statement that uses it starts `WITH`, may put CTEs of its own before it
# (with more binds after $3), and ends `SELECT count(*) FROM links`.
# - DO NOTHING, not DO UPDATE: an upsert that updates locks the shared tag rows, and every
#   writer of a popular tag would queue on it.
# - Names go in sorted, so two transactions that create the same new tags take their
#   unique-index locks in the same order and cannot deadlock each other.
# - A tag this statement creates comes from RETURNING; one that existed before the statement
#   from its snapshot. The only tag in neither is one another transaction committed while this
#   statement waited on it: then fewer links than pairs come back, and `link_missing` adds them
#   with a fresh snapshot.
TAG_LINKS = """
wanted AS (
    SELECT DISTINCT name FROM unnest($3::text[]) AS w(name)
), created_tags AS (
    INSERT INTO tags (owner_id, name)
    SELECT $1, name FROM wanted ORDER BY name COLLATE "C"
    ON CONFLICT (owner_id, name) DO NOTHING
    RETURNING id, name
), known_tags AS (
    SELECT id, name FROM created_tags
    UNION ALL
    SELECT id, name FROM tags WHERE owner_id = $1 AND name IN (SELECT name FROM wanted)
), links AS (
    INSERT INTO note_tags (note_id, tag_id)
    SELECT pair.note_id, known_tags.id
    FROM unnest($2::uuid[], $3::text[]) AS pair(note_id, name)
    JOIN known_tags USING (name)
    RETURNING 1
)
"""

LINK_TAGS = f"WITH {TAG_LINKS} SELECT count(*) AS linked FROM links"  # noqa: S608 (constants)

LINK_MISSING = """
INSERT INTO note_tags (note_id, tag_id)
SELECT pair.note_id, tags.id
FROM unnest($2::uuid[], $3::text[]) AS pair(note_id, name)
JOIN tags ON tags.owner_id = $1 AND tags.name = pair.name
ON CONFLICT (note_id, tag_id) DO NOTHING
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


def tag_names_of(names: Iterable[str]) -> list[str]:
    """`notes.tag_names` for these tags: distinct, sorted by code point (Python's `str` order is
    PostgreSQL's COLLATE "C" order for UTF-8), as every response lists them."""
    return sorted(set(names))


async def names_of(db: BaseDBAsyncClient, note_id: uuid.UUID) -> list[str]:
    _, rows = await db.execute_query(TAG_NAMES, [note_id])
    return sorted(row["name"] for row in rows)


Pairs = tuple[list[uuid.UUID], list[str]]


def pairs_of(links: Iterable[tuple[uuid.UUID, Sequence[str]]]) -> Pairs:
    """The binds $2 and $3 of TAG_LINKS: one (note id, name) per link."""
    pairs = [(note_id, name) for note_id, names in links for name in names]
    return [note_id for note_id, _ in pairs], [name for _, name in pairs]


async def link_missing(db: BaseDBAsyncClient, owner_id: int, pairs: Pairs, linked: int) -> None:
    """After a TAG_LINKS statement that linked `linked` pairs: link the rest, if any."""
    if linked < len(pairs[0]):
        await db.execute_query(LINK_MISSING, [owner_id, *pairs])


async def link(
    db: BaseDBAsyncClient, owner_id: int, links: Iterable[tuple[uuid.UUID, Sequence[str]]]
) -> None:
    """Link each note to its tags, creating the owner's tags that do not exist yet."""
    pairs = pairs_of(links)
    if not pairs[0]:
        return
    _, rows = await db.execute_query(LINK_TAGS, [owner_id, *pairs])
    await link_missing(db, owner_id, pairs, rows[0]["linked"])


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
