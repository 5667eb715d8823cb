"""Every raw SQL statement of the write side, run on the caller's transaction connection (the
rest goes through the Tortoise models). `$n` binds: they run as prepared statements."""

from __future__ import annotations

from notes_service.contract import NOTE_COLUMNS

# The hottest read of the write side: one constant statement (prepared once per connection;
# the tags are the row's own copy, `tag_names`) instead of two QuerySets rebuilt on every
# request. Columns in NoteOut's order, so the row serialises to the same JSON.
GET_NOTE = f"""
SELECT {NOTE_COLUMNS}
FROM notes n
WHERE n.id = $1 AND n.owner_id = $2
"""  # noqa: S608 (built from constants only)

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

# New notes with revision 1 and their tags, in one statement (one round trip inside the caller's
# transaction, whatever the number of notes). $1-$3 are the tag binds of TAG_LINKS; then one
# array per column, element i for note i. The rows are those Tortoise would write: every column
# of `Note` (the database fills the change-feed columns), and the revision `revisions.snapshot`
# describes. Foreign keys are checked at the end of the statement, when the notes exist.
# `tag_names` (the row's copy of its links) comes from the same JSON as the revision's tags:
# the distinct names sorted by code point (`tag_names_of`), in that order.
INSERT_NOTES = f"""
WITH note_rows AS (
    SELECT * FROM unnest($4::uuid[], $5::text[], $6::text[], $7::bool[], $8::bool[], $9::int[],
                         $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::text[])
        AS n(id, title, body, pinned, archived, version, created_at, updated_at, deleted_at,
             tags)
), new_notes AS (
    INSERT INTO notes (id, owner_id, title, body, pinned, archived, version,
                       created_at, updated_at, deleted_at, tag_names)
    SELECT id, $1, title, body, pinned, archived, version, created_at, updated_at, deleted_at,
           ARRAY(SELECT e FROM jsonb_array_elements_text(CAST(tags AS jsonb))
                     WITH ORDINALITY AS x(e, k) ORDER BY k)
    FROM note_rows
), new_revisions AS (
    INSERT INTO revisions (note_id, version, title, body, tags, pinned, archived, deleted,
                           created_at)
    SELECT id, version, title, body, CAST(tags AS jsonb), pinned, archived,
           deleted_at IS NOT NULL, updated_at
    FROM note_rows
), {TAG_LINKS}
SELECT count(*) AS linked FROM links
"""  # noqa: S608 (built from constants only)

# Idempotency-Key: the per-(owner, key) lock (idempotency.py).
TRY_LOCK = "SELECT pg_try_advisory_xact_lock($1) AS locked"

# Import: which of the ids are taken, by a note of any owner or by a tombstone.
NOTE_OWNERS = "SELECT id, owner_id FROM notes WHERE id = ANY($1::uuid[])"
BURIED = "SELECT id FROM tombstones WHERE id = ANY($1::uuid[])"

# statistics.py: which of these tables ($1) have changed past autovacuum's analyze rule
# ($3 + $4 x rows) since their last ANALYZE, counting $2 rows the server may not have counted
# yet (statistics reach pg_stat_user_tables up to a second after a commit). A table never
# analyzed has reltuples -1: it counts as empty.
STALE_TABLES = """
SELECT CAST(c.relname AS text) AS relname
FROM unnest(CAST($1 AS text[])) AS w(name)
JOIN pg_class c ON c.oid = to_regclass(w.name)
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE coalesce(s.n_mod_since_analyze, 0) + CAST($2 AS bigint)
      > CAST($3 AS bigint) + CAST($4 AS float8) * greatest(c.reltuples, 0)
"""
