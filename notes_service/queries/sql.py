"""Every raw SQL statement of the read side, as named constants with `:name` binds.

Variants that differ in ORDER BY or in the keyset predicate are separate constants, built
here from fixed fragments, so each one gets its own plan and an index range scan.
"""

from __future__ import annotations

NOTE_COLUMNS = (
    "n.id, n.title, n.body, n.pinned, n.archived, n.version, "
    "n.created_at, n.updated_at, n.deleted_at"
)

# Each optional filter is a no-op when its bind is NULL, so one statement serves every
# combination of filters.
_NOTE_FILTERS = """
n.owner_id = :owner_id
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
