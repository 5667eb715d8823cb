"""Create, seed and drop the benchmark database with set-based SQL (`generate_series`).

The seed follows the migrated schema: it fills every column of `notes` except the generated
`search` tsvector, refuses to run if a migration has added a required column it does not know,
and, when the tag and revision tables exist (the write-side migration), links tags and writes
revision 1 of every note so the data stays consistent with what the API would have written.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import asyncpg

# 200 common English words: a title draws 3 and a body 24, so each word is in ~13% of notes.
_VOCABULARY = """
about above account across action active actual address advice afternoon agent agree airport
album alarm alert amount animal answer apple april area argument arrival article artist august
autumn balance banana basket battery beach bicycle birthday blanket border bottle bread breakfast
bridge budget butter button cabinet calendar camera candle canvas capital carpet castle cement
chapter cheese cherry chicken circle client climate clock coffee collect colour comment contract
cotton country course cousin credit culture curtain customer dance danger deadline december
design desert dinner doctor document dollar dragon drawer driver editor effort engine evening
exam expense factory family farmer feature february fence festival field figure finance flower
folder forest friday friend garden garlic ginger glass grammar guitar harbour health holiday
honey hospital hotel invoice island jacket january journal july june kettle kitchen ladder lemon
letter library lunch magnet manager market meeting memory message method mirror monday monkey
morning mountain museum music napkin needle network number ocean office orange oven packet
paint palace paper parcel parent party pencil pepper permit pillow planet pocket potato printer
project puzzle quarter rabbit radio receipt recipe report river rocket saturday schedule school
"""
WORDS = _VOCABULARY.split()
# One note in a thousand, all of them the bench owner's, also mentions this word.
RARE_WORD = "zeppelin"
COMMON_WORD = "garden"
OTHER_OWNERS = 4
TAGS_PER_OWNER = 16

NOTE_COLUMNS = {
    "id", "owner_id", "title", "body", "pinned", "archived", "version",
    "created_at", "updated_at", "deleted_at", "tag_names",
}  # fmt: skip

# $1 words, $2 bench owner id, $3 other owner ids, $4 number of notes, $5 the rare word.
# Note i belongs to the bench owner unless i % 10 = 0 (10% spread over the other owners); ids are
# md5('bench-' || i), created_at ascends 15 s per note, updated_at lands up to a day later.
INSERT_NOTES = """
INSERT INTO notes (id, owner_id, title, body, pinned, archived, version,
                   created_at, updated_at, deleted_at)
SELECT CAST(md5('bench-' || i) AS uuid),
       CASE WHEN i % 10 = 0 THEN ($3::int[])[1 + (i / 10) % cardinality($3::int[])] ELSE $2 END,
       initcap(w[1 + (hashint4(i) & 2147483647) % nw] || ' '
               || w[1 + (hashint4(i + 7919) & 2147483647) % nw] || ' '
               || w[1 + (hashint4(i + 104729) & 2147483647) % nw]),
       array_to_string(ARRAY(SELECT w[1 + (hashint4(i * 32 + k) & 2147483647) % nw]
                             FROM generate_series(1, 24) AS k), ' ')
         || CASE WHEN i % 1000 = 7 THEN ' ' || $5 ELSE '' END,
       i % 50 = 0,
       i % 40 = 0,
       1,
       created,
       created + make_interval(secs => (hashint4(i + 31) & 2147483647) % 86400),
       NULL
FROM generate_series(1, $4) AS i,
     LATERAL (SELECT $1::text[] AS w, cardinality($1::text[]) AS nw,
                     TIMESTAMPTZ '2025-01-01 00:00:00+00' + make_interval(secs => i * 15)
                       AS created) AS c
"""

# `notes.tag_names` (migration 6), the row's copy of the links INSERT_NOTE_TAGS makes below:
# the same two names, sorted by code point as the write side stores them.
NOTE_TAG_NAMES = """,
       CASE WHEN i % 10 = 0 THEN CAST('{}' AS text[])
            ELSE ARRAY(SELECT x FROM unnest(ARRAY['t' || (i % 8), 't' || (8 + (i / 8) % 8)]) AS x
                       ORDER BY x COLLATE "C") END"""


def insert_notes_sql(tag_names: bool) -> str:
    if not tag_names:
        return INSERT_NOTES
    return INSERT_NOTES.replace("deleted_at)\nSELECT", "deleted_at, tag_names)\nSELECT", 1).replace(
        "       NULL\nFROM generate_series",
        "       NULL" + NOTE_TAG_NAMES + "\nFROM generate_series",
        1,
    )


# Two tags per bench note: one of t0..t7 and one of t8..t15.
INSERT_TAGS = "INSERT INTO tags (name, owner_id) SELECT 't' || k, $1 FROM generate_series(0, 15) k"
INSERT_NOTE_TAGS = """
INSERT INTO note_tags (tag_id, note_id)
SELECT t.id, CAST(md5('bench-' || i) AS uuid)
FROM generate_series(1, $2) AS i
JOIN tags t ON t.owner_id = $1 AND t.name IN ('t' || (i % 8), 't' || (8 + (i / 8) % 8))
WHERE i % 10 <> 0
"""
INSERT_REVISIONS = """
INSERT INTO revisions (note_id, version, title, body, tags, pinned, archived, deleted, created_at)
SELECT n.id, n.version, n.title, n.body,
       coalesce(%s, '[]'::jsonb),
       n.pinned, n.archived, n.deleted_at IS NOT NULL, n.updated_at
FROM notes n
"""
REVISION_TAGS = """(SELECT jsonb_agg(t.name ORDER BY t.name)
                    FROM note_tags nt JOIN tags t ON t.id = nt.tag_id WHERE nt.note_id = n.id)"""
REVISION_COLUMNS = {
    "id", "note_id", "version", "title", "body", "tags", "pinned", "archived", "deleted",
    "created_at",
}  # fmt: skip

# Secondary indexes are dropped for the bulk insert and rebuilt from their own definitions.
SECONDARY_INDEXES = """
SELECT c.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
WHERE x.indrelid = 'notes'::regclass AND NOT x.indisprimary AND NOT x.indisunique
"""


@dataclass(frozen=True, slots=True)
class SeedReport:
    notes: int
    bench_notes: int
    tagged: bool
    revisions: bool
    seconds: float


class SchemaMismatch(Exception):
    """The migrated schema has changed in a way the seed does not know how to fill."""


async def recreate_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def database_exists(admin_url: str, name: str) -> bool:
    conn = await asyncpg.connect(admin_url)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def _columns(conn: asyncpg.Connection, table: str) -> dict[str, bool]:
    """column -> whether an INSERT must supply it (NOT NULL, no default, not generated)."""
    rows = await conn.fetch(
        """SELECT column_name, is_nullable = 'NO' AND column_default IS NULL
                  AND is_generated = 'NEVER' AND identity_generation IS NULL AS required
           FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1""",
        table,
    )
    return {row["column_name"]: row["required"] for row in rows}


async def owner_id(url: str, name: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        found = await conn.fetchval("SELECT id FROM owners WHERE name = $1", name)
    finally:
        await conn.close()
    if found is None:
        raise SchemaMismatch(f"owner {name!r} does not exist")
    return int(found)


async def seed(url: str, bench_owner: int, total: int) -> SeedReport:
    started = time.monotonic()
    conn = await asyncpg.connect(url)
    try:
        notes = await _columns(conn, "notes")
        unknown = sorted(c for c, required in notes.items() if required and c not in NOTE_COLUMNS)
        if unknown:
            raise SchemaMismatch(
                f"notes has new required columns the seed does not fill: {unknown}"
            )
        tables = {
            row["tablename"]
            for row in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
        tagged = {"tags", "note_tags"} <= tables
        revisions = "revisions" in tables
        if revisions and set(await _columns(conn, "revisions")) != REVISION_COLUMNS:
            raise SchemaMismatch("revisions has columns the seed does not know; update seed.py")

        await conn.execute("SET synchronous_commit = off; SET maintenance_work_mem = '512MB'")
        async with conn.transaction():
            # Older schemas' announcing triggers are deferred to commit; re-creating the indexes
            # below in the same transaction needs them fired already.
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            others = [
                await conn.fetchval(
                    "INSERT INTO owners (name, created_at) VALUES ($1, now()) RETURNING id",
                    f"bench-other-{k}",
                )
                for k in range(1, OTHER_OWNERS + 1)
            ]
            indexes = await conn.fetch(SECONDARY_INDEXES)
            for row in indexes:
                await conn.execute(f'DROP INDEX "{row["relname"]}"')
            insert = insert_notes_sql(tagged and "tag_names" in notes)
            await conn.execute(insert, WORDS, bench_owner, others, total, RARE_WORD)
            for row in indexes:
                await conn.execute(row["pg_get_indexdef"])
            if tagged:
                await conn.execute(INSERT_TAGS, bench_owner)
                await conn.execute(INSERT_NOTE_TAGS, bench_owner, total)
            if revisions:
                await conn.execute(INSERT_REVISIONS % (REVISION_TAGS if tagged else "NULL"))
        if "feed" in tables:  # the change feed's positions, as the service's clock gives them
            await conn.execute(
                "SELECT feed_sequence(v.viewer_id)"
                " FROM (SELECT DISTINCT viewer_id FROM feed WHERE tick IS NULL) AS v"
            )
        # Steady state: visibility map set and statistics current, as after autovacuum; and
        # the seed's dirty pages written out, so that no measured run pays for its checkpoint.
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CHECKPOINT")
        bench_notes = await conn.fetchval(
            "SELECT count(*) FROM notes WHERE owner_id = $1", bench_owner
        )
        count = await conn.fetchval("SELECT count(*) FROM notes")
    finally:
        await conn.close()
    return SeedReport(
        notes=count,
        bench_notes=bench_notes,
        tagged=tagged,
        revisions=revisions,
        seconds=time.monotonic() - started,
    )


async def sample_note_ids(url: str, owner: int, count: int) -> list[uuid.UUID]:
    """Random live notes of the owner, so every single-row request finds its row."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """SELECT id FROM notes TABLESAMPLE BERNOULLI (5) REPEATABLE (42)
               WHERE owner_id = $1 AND deleted_at IS NULL LIMIT $2""",
            owner,
            count,
        )
    finally:
        await conn.close()
    return [row["id"] for row in rows]


async def wait_for_idle(url: str, within: float = 60.0) -> None:
    """Wait until no other query runs in the database: a slow query that wrk gave up on keeps
    running in PostgreSQL and would otherwise steal CPU from the next measurement."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            busy = await conn.fetchval(
                """SELECT count(*) FROM pg_stat_activity
                   WHERE datname = current_database() AND state = 'active'
                     AND pid <> pg_backend_pid()"""
            )
            if busy == 0:
                return
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
