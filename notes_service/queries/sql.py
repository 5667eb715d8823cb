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
