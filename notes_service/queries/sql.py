"""Every raw SQL statement of the read side, as named constants with `:name` binds.

Variants that differ in ORDER BY or in the keyset predicate are separate constants, built
here from fixed fragments, so each one gets its own plan and an index range scan.
"""

from __future__ import annotations

# Tag names sorted by code point (COLLATE "C"), the order the write side returns them in.
NOTE_TAGS = """
COALESCE((SELECT array_agg(t.name ORDER BY t.name COLLATE "C")
          FROM note_tags nt JOIN tags t ON t.id = nt.tag_id
          WHERE nt.note_id = n.id), '{}') AS tags"""

NOTE_COLUMNS = (
    "n.id, n.title, n.body, n.pinned, n.archived, n.version, "
    "n.created_at, n.updated_at, n.deleted_at, " + NOTE_TAGS
)

# Notes carrying every tag in :tags (an empty array matches every note).
_TAG_FILTER = """
(cardinality(CAST(:tags AS text[])) = 0 OR n.id IN (
    SELECT nt.note_id FROM note_tags nt JOIN tags t ON t.id = nt.tag_id
    WHERE t.owner_id = :owner_id AND t.name = ANY(CAST(:tags AS text[]))
    GROUP BY nt.note_id
    HAVING count(*) = cardinality(CAST(:tags AS text[]))))
"""

# Each optional filter is a no-op when its bind is NULL, so one statement serves every
# combination of filters.
_NOTE_FILTERS = f"""
n.owner_id = :owner_id
AND {_TAG_FILTER}
AND (CAST(:pinned AS boolean) IS NULL OR n.pinned = CAST(:pinned AS boolean))
AND n.archived = CAST(:archived AS boolean)
AND (n.deleted_at IS NOT NULL) = CAST(:trashed AS boolean)
AND (CAST(:updated_after AS timestamptz) IS NULL
     OR n.updated_at > CAST(:updated_after AS timestamptz))
AND (CAST(:as_of AS timestamptz) IS NULL OR n.updated_at <= CAST(:as_of AS timestamptz))
"""

# sort name -> (column, direction). The id breaks ties in the same direction as the sort.
SORTS: dict[str, tuple[str, str]] = {
    "-updated_at": ("updated_at", "DESC"),
    "updated_at": ("updated_at", "ASC"),
    "-created_at": ("created_at", "DESC"),
    "created_at": ("created_at", "ASC"),
}


def _list_notes(column: str, direction: str, after_cursor: bool) -> str:
    keyset = ""
    if after_cursor:
        op = "<" if direction == "DESC" else ">"
        keyset = (
            f"AND (n.{column}, n.id) {op} (CAST(:after_ts AS timestamptz), CAST(:after_id AS uuid))"
        )
    return f"""
SELECT {NOTE_COLUMNS}
FROM notes n
WHERE {_NOTE_FILTERS} {keyset}
ORDER BY n.{column} {direction}, n.id {direction}
LIMIT :limit
"""


# (sort, after_cursor) -> statement
LIST_NOTES: dict[tuple[str, bool], str] = {
    (sort, after): _list_notes(column, direction, after)
    for sort, (column, direction) in SORTS.items()
    for after in (False, True)
}


# Search. Highlights are delimited by two private-use characters (stripped from the text
# first), so that Python can HTML-escape the snippet and then turn only them into <mark>.
MARK_START, MARK_STOP = "\ue000", "\ue001"
_HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords=30, MinWords=10, "
    "MaxFragments=2, FragmentDelimiter=\u2026"
)
_SNIPPET_SOURCE = f"translate(coalesce(nullif(n.body, ''), n.title), '{MARK_START}{MARK_STOP}', '')"

_SEARCH_FILTERS = f"""
n.owner_id = :owner_id
AND n.deleted_at IS NULL
AND {_TAG_FILTER}
"""


def _search_fts(after_cursor: bool) -> str:
    keyset = "WHERE (hit.rank, hit.id) < (CAST(:after_rank AS real), CAST(:after_id AS uuid))"
    return f"""
WITH query AS (SELECT websearch_to_tsquery('english', CAST(:q AS text)) AS tsq),
hit AS (
    SELECT n.id, ts_rank(n.search, query.tsq) AS rank
    FROM notes n, query
    WHERE {_SEARCH_FILTERS} AND n.search @@ query.tsq
)
SELECT {NOTE_COLUMNS}, hit.rank,
       ts_headline('english', {_SNIPPET_SOURCE}, query.tsq, '{_HEADLINE_OPTIONS}') AS snippet
FROM (SELECT * FROM hit {keyset if after_cursor else ""}
      ORDER BY hit.rank DESC, hit.id DESC LIMIT :limit) AS hit
JOIN notes n ON n.id = hit.id
CROSS JOIN query
ORDER BY hit.rank DESC, hit.id DESC
"""


def _search_fuzzy(after_cursor: bool) -> str:
    keyset = "WHERE (hit.rank, hit.id) < (CAST(:after_rank AS real), CAST(:after_id AS uuid))"
    return f"""
WITH hit AS (
    SELECT n.id,
           greatest(similarity(CAST(:q AS text), n.title),
                    word_similarity(CAST(:q AS text), n.title)) AS rank
    FROM notes n
    -- `%` matches whole-title typos, `<%` a misspelt word within a longer title.
    WHERE {_SEARCH_FILTERS}
      AND (CAST(:q AS text) % n.title OR CAST(:q AS text) <% n.title)
)
SELECT {NOTE_COLUMNS}, hit.rank,
       left({_SNIPPET_SOURCE}, 200) AS snippet
FROM (SELECT * FROM hit {keyset if after_cursor else ""}
      ORDER BY hit.rank DESC, hit.id DESC LIMIT :limit) AS hit
JOIN notes n ON n.id = hit.id
ORDER BY hit.rank DESC, hit.id DESC
"""


# (mode, after_cursor) -> statement; mode is "fts" or "fuzzy".
SEARCH: dict[tuple[str, bool], str] = {
    (mode, after): build(after)
    for mode, build in (("fts", _search_fts), ("fuzzy", _search_fuzzy))
    for after in (False, True)
}


TAG_COUNTS = """
SELECT t.name, count(*) AS count
FROM tags t
JOIN note_tags nt ON nt.tag_id = t.id
JOIN notes n ON n.id = nt.note_id
WHERE t.owner_id = :owner_id AND n.owner_id = :owner_id AND n.deleted_at IS NULL
GROUP BY t.name
ORDER BY count DESC, t.name COLLATE "C"
"""

STATS = """
SELECT count(*) FILTER (WHERE n.deleted_at IS NULL) AS notes,
       count(*) FILTER (WHERE n.deleted_at IS NULL AND n.pinned) AS pinned,
       count(*) FILTER (WHERE n.deleted_at IS NULL AND n.archived) AS archived,
       count(*) FILTER (WHERE n.deleted_at IS NOT NULL) AS trashed,
       max(n.updated_at) AS last_updated_at,
       (SELECT count(DISTINCT nt.tag_id)
        FROM note_tags nt JOIN notes live ON live.id = nt.note_id
        WHERE live.owner_id = :owner_id AND live.deleted_at IS NULL) AS tags,
       (SELECT count(*)
        FROM revisions r JOIN notes owned ON owned.id = r.note_id
        WHERE owned.owner_id = :owner_id) AS revisions
FROM notes n
WHERE n.owner_id = :owner_id
"""

# The change feed. A change is visible once its transaction id is below the xmin of the
# current snapshot: every transaction older than that has finished, and every transaction
# still running (or yet to start) has an id at or above it. So the cursor, an
# (xid, seq) position, never passes a change that could still commit behind it.
_CHANGE_OP = """
CASE WHEN n.version = 1 THEN 'create'
     WHEN n.deleted_at IS NOT NULL THEN 'trash'
     WHEN prev.deleted THEN 'restore'
     ELSE 'update' END"""

CHANGES = f"""
WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
pos AS (SELECT CAST(CAST(:after_xid AS text) AS xid8) AS xid, CAST(:after_seq AS bigint) AS seq),
changed AS (
    SELECT n.id, n.version, n.change_xid, n.change_seq, false AS gone
    FROM notes n, horizon, pos
    WHERE n.owner_id = :owner_id AND n.change_xid < horizon.xmin
      AND (n.change_xid, n.change_seq) > (pos.xid, pos.seq)
    UNION ALL
    SELECT t.id, t.version, t.change_xid, t.change_seq, true
    FROM tombstones t, horizon, pos
    WHERE t.owner_id = :owner_id AND t.change_xid < horizon.xmin
      AND (t.change_xid, t.change_seq) > (pos.xid, pos.seq)
    ORDER BY change_xid, change_seq
    LIMIT :limit
)
SELECT c.id AS change_id, c.version AS change_version, c.gone,
       CAST(c.change_xid AS text) AS change_xid, c.change_seq,
       CASE WHEN c.gone THEN 'delete' ELSE {_CHANGE_OP} END AS op,
       {NOTE_COLUMNS}
FROM changed c
LEFT JOIN notes n ON n.id = c.id AND NOT c.gone
LEFT JOIN revisions prev ON prev.note_id = n.id AND prev.version = n.version - 1
ORDER BY c.change_xid, c.change_seq
"""


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
