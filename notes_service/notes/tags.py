"""Tag links on the write side. Raw SQL, run on the caller's transaction connection: one
statement per step whatever the number of notes, which keeps a 100-note batch cheap."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from tortoise import BaseDBAsyncClient

from notes_service.notes.sql import LINK_MISSING, LINK_TAGS, TAG_NAMES, UNLINK_TAGS


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
