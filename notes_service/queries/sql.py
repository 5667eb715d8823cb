"""Every raw SQL statement of the read side. The hot ones (`*_JSON`, `list_page`) use `$n`
binds, run as prepared statements straight on asyncpg, and return the response's JSON built by
PostgreSQL (see `json_sql.py`); the export and the row-by-row change feed keep `:name` binds.

Variants that differ in ORDER BY, in the keyset predicate or in their filters are separate
statements, built here from fixed fragments, so each one has its own plan and an index range
scan, generic plans included (`tests/test_plans.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from notes_service.contract import NOTE_COLUMNS
from notes_service.queries.json_sql import (
    NOTE_JSON,
    json_array,
    json_int,
    json_nullable,
    json_object,
    json_string,
    json_timestamp,
)


class Params:
    """Numbers a statement's `$n` binds by name (each with its type), so that the text and the
    order of its arguments come from one place."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, name: str, type_: str) -> str:
        if name not in self.names:
            self.names.append(name)
        return f"CAST(${self.names.index(name) + 1} AS {type_})"


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: tuple[str, ...]

    def args(self, values: Mapping[str, object]) -> list[object]:
        return [values[name] for name in self.params]


def tag_filter(p: Params) -> str:
    """Notes carrying every tag in the `tags` bind (a non-empty array)."""
    return f"""n.id IN (
    SELECT nt.note_id FROM note_tags nt JOIN tags t ON t.id = nt.tag_id
    WHERE t.owner_id = {p("owner_id", "integer")} AND t.name = ANY({p("tags", "text[]")})
    GROUP BY nt.note_id
    HAVING count(*) = cardinality({p("tags", "text[]")}))"""


# The columns a page carries from its scan to the JSON built for it.
PAGE_COLUMNS = (
    "n.id, n.title, n.body, n.tag_names, n.pinned, n.archived, n.version, "
    "n.created_at, n.updated_at, n.deleted_at"
)


def json_page(item: str, row_number: str, limit: str) -> str:
    """Aggregate over a page of `limit` + 1 numbered rows: the first `limit` items, in order.
    The item is built only for those (an aggregate evaluates its FILTER first)."""
    return (
        f"('[' || coalesce(string_agg({item}, ',' ORDER BY {row_number})"
        f" FILTER (WHERE {row_number} <= {limit}), '') || ']')"
    )


# sort name -> (column, direction). The id breaks ties in the same direction as the sort.
SORTS: dict[str, tuple[str, str]] = {
    "-updated_at": ("updated_at", "DESC"),
    "updated_at": ("updated_at", "ASC"),
    "-created_at": ("created_at", "DESC"),
    "created_at": ("created_at", "ASC"),
}


@functools.cache
def list_page(
    sort: str, *, after: bool, as_of: bool, tags: bool, pinned: bool, updated_after: bool
) -> Statement:
    """One statement per combination of filters, rather than `(:x IS NULL OR ...)`: each then
    has a generic plan as good as a custom one (`tests/test_plans.py`). It returns the page's
    items as one JSON text, and the keys of the last item for the next cursor."""
    p = Params()
    column, direction = SORTS[sort]
    where = [
        f"n.owner_id = {p('owner_id', 'integer')}",
        f"n.archived = {p('archived', 'boolean')}",
        f"(n.deleted_at IS NOT NULL) = {p('trashed', 'boolean')}",
    ]
    if tags:
        where.append(tag_filter(p))
    if pinned:
        where.append(f"n.pinned = {p('pinned', 'boolean')}")
    if updated_after:
        where.append(f"n.updated_at > {p('updated_after', 'timestamptz')}")
    if as_of:
        where.append(f"n.updated_at <= {p('as_of', 'timestamptz')}")
    if after:
        op = "<" if direction == "DESC" else ">"
        position = f"({p('after_ts', 'timestamptz')}, {p('after_id', 'uuid')})"
        where.append(f"(n.{column}, n.id) {op} {position}")
    limit = p("limit", "integer")
    order = f"n.{column} {direction}, n.id {direction}"
    sql = f"""
WITH page AS (
    SELECT {PAGE_COLUMNS}, row_number() OVER (ORDER BY {order}) AS i
    FROM notes n
    WHERE {" AND ".join(where)}
    ORDER BY {order}
    LIMIT {limit} + 1
)
SELECT {json_page(NOTE_JSON, "n.i", limit)} AS items,
       max(n.{column}) FILTER (WHERE n.i = {limit}) AS last_sort,
       (array_agg(n.id) FILTER (WHERE n.i = {limit}))[1] AS last_id,
       count(*) > {limit} AS more
FROM page n
"""
    return Statement(sql, tuple(p.names))


# The tag counts and the stats' tag count read `notes.tag_names` (the write side's copy of each
# note's tags) from the owner's notes alone: no join whose plan depends on an estimate of how
# many notes the owner has, which is wrong right after a bulk import (the notes x tags nested
# loop that took 17 s before the statistics caught up).
_TAG_COUNT = json_object([("name", json_string("c.name")), ("count", json_int("c.count"))])
TAG_COUNTS_JSON = f"""
SELECT {json_array(_TAG_COUNT, 'c.count DESC, c.name COLLATE "C"')} AS body
FROM (SELECT t.name, count(*) AS count
      FROM notes n, unnest(n.tag_names) AS t(name)
      WHERE n.owner_id = $1 AND n.deleted_at IS NULL
      GROUP BY t.name) AS c
"""

# The fields of `Stats`, in order, before `last_updated_at`.
STATS_COUNTS = ("notes", "pinned", "archived", "trashed", "tags", "revisions")
STATS = """
SELECT count(*) FILTER (WHERE n.deleted_at IS NULL) AS notes,
       count(*) FILTER (WHERE n.deleted_at IS NULL AND n.pinned) AS pinned,
       count(*) FILTER (WHERE n.deleted_at IS NULL AND n.archived) AS archived,
       count(*) FILTER (WHERE n.deleted_at IS NOT NULL) AS trashed,
       max(n.updated_at) AS last_updated_at,
       (SELECT count(DISTINCT t.name)
        FROM notes live, unnest(live.tag_names) AS t(name)
        WHERE live.owner_id = :owner_id AND live.deleted_at IS NULL) AS tags,
       (SELECT count(*)
        FROM revisions r JOIN notes owned ON owned.id = r.note_id
        WHERE owned.owner_id = :owner_id) AS revisions
FROM notes n
WHERE n.owner_id = :owner_id
"""

# The change feed: the viewer's rows of `feed` after a (tick, seq) position, oldest first (an
# index-only walk of feed_viewer_position), each with its note (NULL columns once it is deleted
# for good) and its version. A row is there once its transaction has committed; positions follow
# the viewer's commit order (migration feed_clock), so a cursor is never passed by a change that
# commits later. The one statement behind both the page (`CHANGES_JSON`) and the stream.
_CHANGE_OP = """
CASE WHEN n.gone THEN 'delete'
     WHEN n.version = 1 THEN 'create'
     WHEN n.deleted_at IS NOT NULL THEN 'trash'
     WHEN prev.deleted THEN 'restore'
     ELSE 'update' END"""


def _changes(viewer: str, tick: str, seq: str, limit: str) -> str:
    # The note and the tombstone are looked up per feed row (LATERAL ... LIMIT 1 is never
    # flattened into a join): a page is at most 101 index look-ups, and a generic plan, which
    # cannot know the page's size, never hashes the whole notes table instead.
    return f"""
WITH changed AS (
    SELECT c.tick, c.seq, c.note_id AS change_id, n.id IS NULL AS gone,
           coalesce(n.version, t.version) AS change_version,
           row_number() OVER (ORDER BY c.tick, c.seq) AS i, {PAGE_COLUMNS}
    FROM (SELECT f.note_id, f.tick, f.seq
          FROM feed f
          WHERE f.viewer_id = {viewer} AND f.tick IS NOT NULL
            AND (f.tick, f.seq) > ({tick}, {seq})
          ORDER BY f.tick, f.seq
          LIMIT {limit}) AS c
    LEFT JOIN LATERAL (SELECT * FROM notes WHERE notes.id = c.note_id LIMIT 1) AS n ON true
    LEFT JOIN LATERAL (SELECT tombstones.version FROM tombstones
                       WHERE tombstones.id = c.note_id AND n.id IS NULL LIMIT 1) AS t ON true
)"""


_FROM_CHANGED = """
FROM changed n
LEFT JOIN revisions prev ON prev.note_id = n.id AND prev.version = n.version - 1"""

CHANGES = (
    _changes(":owner_id", "CAST(:after_tick AS bigint)", "CAST(:after_seq AS bigint)", ":limit")
    + f"""
SELECT n.change_id, n.change_version, n.gone, n.tick, n.seq, {_CHANGE_OP} AS op, {NOTE_COLUMNS}
{_FROM_CHANGED}
ORDER BY n.i
"""
)

_STATS = json_object(
    [
        *((name, json_int(f"s.{name}")) for name in STATS_COUNTS),
        ("last_updated_at", json_nullable(json_timestamp("s.last_updated_at"))),
    ]
)
STATS_JSON = f"""
SELECT {_STATS} AS body
FROM ({STATS.replace(":owner_id", "CAST($1 AS integer)")}) AS s
"""

# The feed page as JSON, bound by `$n`, with the position of the page's last change for the
# next cursor.
_CHANGE_JSON = json_object(
    [
        ("id", "'\"' || CAST(n.change_id AS text) || '\"'"),
        ("version", json_int("n.change_version")),
        ("op", f"'\"' || {_CHANGE_OP} || '\"'"),
        ("note", f"CASE WHEN n.gone THEN 'null' ELSE {NOTE_JSON} END"),
    ]
)

CHANGES_JSON = (
    _changes("$1", "CAST($2 AS bigint)", "CAST($3 AS bigint)", "CAST($4 AS integer) + 1")
    + f"""
SELECT {json_page(_CHANGE_JSON, "n.i", "CAST($4 AS integer)")} AS changes,
       (array_agg(n.tick ORDER BY n.i DESC) FILTER (WHERE n.i <= CAST($4 AS integer)))[1]
           AS last_tick,
       (array_agg(n.seq ORDER BY n.i DESC) FILTER (WHERE n.i <= CAST($4 AS integer)))[1]
           AS last_seq,
       count(*) > CAST($4 AS integer) AS more
{_FROM_CHANGED}
"""
)


# Export walks the owner's notes in short keyset chunks (index notes_owner_created_id), each
# chunk its own statement: no cursor or transaction stays open while a slow client reads.
_EXPORT_NOTES = f"""
SELECT {NOTE_COLUMNS}
FROM notes n
WHERE n.owner_id = :owner_id"""
_EXPORT_ORDER = """
ORDER BY n.created_at, n.id
LIMIT :limit
"""
EXPORT_FIRST_NOTES = _EXPORT_NOTES + _EXPORT_ORDER
EXPORT_NEXT_NOTES = (
    _EXPORT_NOTES
    + """
  AND (n.created_at, n.id) > (CAST(:after_created_at AS timestamptz), CAST(:after_id AS uuid))"""
    + _EXPORT_ORDER
)

# One note's history, a few versions at a time: a long history is never one value.
EXPORT_REVISIONS = """
SELECT r.version, r.title, r.body, r.tags, r.pinned, r.archived, r.deleted, r.created_at
FROM revisions r
WHERE r.note_id = CAST(:note_id AS uuid) AND r.version > :after_version
ORDER BY r.version
LIMIT :limit
"""

OWNER_ID = "SELECT id FROM owners WHERE name = CAST(:name AS text)"
