"""Every hot read statement keeps an index plan once PostgreSQL switches a prepared statement to
its generic plan (after the fifth execution), with no `plan_cache_mode` set anywhere; search,
planned per execution, picks its plan by how common the words are, bar a rare word's search
(without a window's floor), which keeps a generic plan that reads the text index."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from tortoise import connections

from notes_service.platform.read_db import ReadDatabase
from notes_service.platform.settings import Settings
from notes_service.queries import search_sql, search_text, sql
from notes_service.queries.repository import NoteQueries
from tests.support.factories import owner_with_key

# 4,000 notes per owner; "common" is in every other note, "rare" in one in a thousand.
SEED = """
INSERT INTO notes (id, owner_id, title, body, pinned, archived, version, created_at, updated_at,
                   tag_names)
SELECT s.id, s.owner_id, 'note ' || g,
       'body of note ' || g || CASE WHEN g % 2 = 0 THEN ' common' ELSE '' END
                            || CASE WHEN g % 1000 = 7 THEN ' rare' ELSE '' END,
       g % 10 = 0, g % 7 = 0, 1,
       now() - g * interval '1 minute', now() - (g % 500) * interval '1 second',
       ARRAY['tag' || (1 + abs(hashtext(s.id::text)) % 8)]
FROM (SELECT gen_random_uuid() AS id, o.id AS owner_id, g
      FROM generate_series(1, 4000) AS g, owners o) AS s;
INSERT INTO tags (owner_id, name) SELECT o.id, 'tag' || k FROM owners o, generate_series(1, 8) k;
INSERT INTO note_tags (note_id, tag_id)
SELECT n.id, t.id FROM notes n JOIN tags t ON t.owner_id = n.owner_id
WHERE t.name = 'tag' || (1 + abs(hashtext(n.id::text)) % 8);
ANALYZE;
"""


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "ARRAY[" + ",".join(_literal(v) for v in value) + "]::text[]"
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture
async def seeded(client: httpx.AsyncClient, database_url: str) -> AsyncIterator[asyncpg.Connection]:
    await owner_with_key("alice")
    for name in ("bob", "carol", "dave"):
        await owner_with_key(name)
    await connections.get("default").execute_script(SEED)
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


async def _generic_plan(
    conn: asyncpg.Connection, statement: sql.Statement, values: dict[str, Any]
) -> str:
    """The plan of `statement` after six runs as a prepared statement (asyncpg's cache runs it
    so): whichever plan PostgreSQL then picks, and the generic plan itself, which it may pick
    later, must both stay off a sequential scan of the notes. Returns the generic plan."""
    name = f"p_{uuid.uuid4().hex[:8]}"
    await conn.execute(f"PREPARE {name} AS {statement.sql}")
    call = f"{name}({', '.join(_literal(v) for v in statement.args(values))})"
    for _ in range(6):
        await conn.execute(f"EXECUTE {call}")
    plans = []
    for mode in ("auto", "force_generic_plan"):
        await conn.execute(f"SET plan_cache_mode = {mode}")
        plans.append("\n".join(row[0] for row in await conn.fetch(f"EXPLAIN EXECUTE {call}")))
    await conn.execute(f"DEALLOCATE {name}; RESET plan_cache_mode")
    for plan in plans:
        assert "Seq Scan on notes" not in plan, plan
    assert "$1" in plans[1], plans[1]  # really the generic plan: the values are parameters
    return plans[1]


def _values(owner_id: int, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "owner_id": owner_id,
        "archived": False,
        "trashed": False,
        "limit": 20,
        "tags": ["tag1", "tag2"],
        "pinned": True,
        "updated_after": now.replace(year=2000),
        "as_of": now,
        "after_ts": now,
        "after_id": uuid.uuid4(),
    } | extra


@pytest.mark.parametrize("sort", list(sql.SORTS))
@pytest.mark.parametrize("after", [False, True])
async def test_every_sort_keeps_an_index_range_scan(
    seeded: asyncpg.Connection, sort: str, after: bool
) -> None:
    owner_id = await seeded.fetchval("SELECT id FROM owners WHERE name = 'alice'")
    as_of = after and sort.endswith("updated_at")
    statement = sql.list_page(
        sort, after=after, as_of=as_of, tags=False, pinned=False, updated_after=False
    )
    plan = await _generic_plan(seeded, statement, _values(owner_id))
    column = sort.lstrip("-")
    index = "idx_notes_owner_i_aef6f5" if column == "updated_at" else "notes_owner_created_id"
    assert f"Index Scan Backward using {index}" in plan or f"Index Scan using {index}" in plan
    # The tags subselect (a SubPlan per item) sorts tag names; the scan itself must not sort.
    assert "Sort" not in plan.split("SubPlan")[0].replace("Sort Key", ""), plan
    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "owner_id = $1" in index_cond, plan
    if after:
        assert f"ROW({column}, id)" in index_cond, plan


@pytest.mark.parametrize(
    "filters",
    [
        {"tags": True},
        {"pinned": True},
        {"updated_after": True},
        {"tags": True, "pinned": True, "updated_after": True},
    ],
)
async def test_filtered_lists_keep_an_index_plan(
    seeded: asyncpg.Connection, filters: dict[str, bool]
) -> None:
    owner_id = await seeded.fetchval("SELECT id FROM owners WHERE name = 'alice'")
    shape = {"tags": False, "pinned": False, "updated_after": False} | filters
    statement = sql.list_page("-updated_at", after=True, as_of=True, **shape)
    plan = await _generic_plan(seeded, statement, _values(owner_id))
    # The owner's notes index, or (for a tag filter) the tagged notes by primary key.
    assert "idx_notes_owner_i_aef6f5" in plan or "notes_pkey" in plan, plan


async def test_summaries_and_feed_keep_index_plans(seeded: asyncpg.Connection) -> None:
    owner_id = await seeded.fetchval("SELECT id FROM owners WHERE name = 'alice'")
    await seeded.execute("SELECT feed_sequence(id) FROM owners")  # positions for the seeded
    await seeded.execute("ANALYZE feed")
    feed = sql.Statement(sql.CHANGES_JSON, ("owner_id", "tick", "seq", "limit"))
    plan = await _generic_plan(
        seeded, feed, {"owner_id": owner_id, "tick": 0, "seq": 0, "limit": 100}
    )
    assert "Index Only Scan using feed_viewer_position" in plan, plan
    assert "Seq Scan on feed" not in plan, plan
    one = ("owner_id",)
    for text in (sql.TAG_COUNTS_JSON, sql.STATS_JSON):
        plan = await _generic_plan(seeded, sql.Statement(text, one), {"owner_id": owner_id})
        assert "Index" in plan, plan


async def test_no_database_setting_forces_custom_plans(seeded: asyncpg.Connection) -> None:
    assert await seeded.fetchval("SHOW plan_cache_mode") == "auto"


async def _search_plan(
    conn: asyncpg.Connection, owner_id: int, word: str, *, floor: bool = False
) -> str:
    recent = not floor and word == "common"
    generic = not floor and not recent  # as NoteQueries.search_page chooses
    statement = search_sql.search_page(
        "fts", tags=False, after=floor, as_of=floor, floor=floor, recent=recent, generic=generic
    )
    values: dict[str, Any] = {
        "owner_id": owner_id,
        "tsquery": search_text.parse(word).tsquery,
        "limit": 20,
        "rank_limit": 100,
    }
    if floor:
        now = datetime.now(UTC)
        values |= {"as_of": now, "floor_ts": now - timedelta(seconds=100)}
        values |= {"floor_id": uuid.uuid4(), "after_rank": 0.5, "after_id": uuid.uuid4()}
    rows = await conn.fetch("EXPLAIN " + statement.sql, *statement.args(values))
    return "\n".join(row[0] for row in rows)


async def test_search_finds_the_newest_common_matches_in_the_gist_index_and_sorts_rare_ones(
    seeded: asyncpg.Connection,
) -> None:
    owner_id = await seeded.fetchval("SELECT id FROM owners WHERE name = 'alice'")
    common = (await _search_plan(seeded, owner_id, "common")).split("CTE Scan")[0]
    # Newest first without reading the notes that do not match (see search_sql._candidates).
    assert "Index Scan using notes_recent_search" in common, common
    assert "Order By: (updated_at <-> " in common, common
    rare = (await _search_plan(seeded, owner_id, "rare")).split("CTE Scan")[0]
    assert "Bitmap Index Scan on notes_" in rare and "Order By" not in rare, rare


async def test_the_statistics_tell_a_common_word_from_a_rare_one(
    seeded: asyncpg.Connection,
) -> None:
    share = search_sql.COMMON_SHARE
    assert await seeded.fetchval(search_sql.IS_COMMON, "common", share)
    for q in ("rare", "nothing-like-it", "-"):
        assert not await seeded.fetchval(search_sql.IS_COMMON, q, share), q
    assert await seeded.fetchval(search_sql.IS_COMMON, '"a common" or rare', share)


async def test_the_gist_walk_cuts_at_rank_limit_as_the_newest_first_order_does(
    seeded: asyncpg.Connection,
) -> None:
    # Eight of alice's notes share each updated_at: the cut at 100 falls inside a tie.
    owner_id = await seeded.fetchval("SELECT id FROM owners WHERE name = 'alice'")
    statement = search_sql.search_page(
        "fts", tags=False, after=False, as_of=False, floor=False, recent=True
    )
    values = {"owner_id": owner_id, "tsquery": "'common'", "limit": 20, "rank_limit": 100}
    await seeded.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
    try:
        rows = await seeded.fetch("EXPLAIN " + statement.sql, *statement.args(values))
        plan = "\n".join(row[0] for row in rows)
        assert "Index Scan using notes_recent_search" in plan, plan
        page = await seeded.fetchrow(statement.sql, *statement.args(values))
    finally:
        await seeded.execute("RESET enable_seqscan; RESET enable_bitmapscan")
    newest = await seeded.fetch(
        "SELECT id, updated_at FROM notes WHERE owner_id = $1 AND search @@ 'common' "
        "ORDER BY updated_at DESC, id DESC LIMIT 100",
        owner_id,
    )
    assert sum(1 for row in newest if row["updated_at"] == newest[-1]["updated_at"]) > 1
    assert page is not None and page["candidates"] == 100
    assert (page["oldest_ts"], page["oldest_id"]) == (newest[-1]["updated_at"], newest[-1]["id"])


async def test_a_later_page_of_a_cut_walk_reads_its_window_from_an_index(
    seeded: asyncpg.Connection,
) -> None:
    owner_id = await seeded.fetchval("SELECT id FROM owners WHERE name = 'alice'")
    plan = (await _search_plan(seeded, owner_id, "common", floor=True)).split("CTE Scan")[0]
    assert "Seq Scan on notes" not in plan, plan
    assert "updated_at >= " in plan, plan  # the window's floor bounds the index scan


async def test_search_is_planned_for_its_values_every_time(
    seeded: asyncpg.Connection, app: FastAPI, settings: Settings
) -> None:
    owner_id = await seeded.fetchval("SELECT id FROM owners WHERE name = 'alice'")
    db = ReadDatabase(settings.model_copy(update={"read_db_pool_min": 1, "read_db_pool_max": 1}))
    await db.connect()
    try:
        queries = NoteQueries(db, search_rank_limit=100)
        for _ in range(8):
            page = await queries.search_page(owner_id, "common", (), "fts", 20, None)
            assert page["candidates"] == 100 and page["more"]
        statement = search_sql.search_page(
            "fts", tags=False, after=False, as_of=False, floor=False, recent=True
        )
        generic = await db.fetchrow(
            "SELECT count(*) FILTER (WHERE generic_plans > 0) AS n FROM pg_prepared_statements "
            "WHERE statement = $1",
            [statement.sql],
        )
        assert generic["n"] == 0
    finally:
        await db.disconnect()


async def test_a_rare_word_runs_on_a_generic_plan_that_reads_the_text_index(
    seeded: asyncpg.Connection, app: FastAPI, settings: Settings
) -> None:
    owner_id = await seeded.fetchval("SELECT id FROM owners WHERE name = 'alice'")
    db = ReadDatabase(settings.model_copy(update={"read_db_pool_min": 1, "read_db_pool_max": 1}))
    await db.connect()
    try:
        queries = NoteQueries(db, search_rank_limit=100)
        for _ in range(8):
            page = await queries.search_page(owner_id, "rare", (), "fts", 20, None)
            assert page["candidates"] == 4 and not page["more"]
        statement = search_sql.search_page(
            "fts", tags=False, after=False, as_of=False, floor=False, ascii=True, generic=True
        )
        counts = await db.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            [statement.sql],
        )
        # PostgreSQL kept the generic plan after its five custom ones: no planning per search.
        assert counts["generic_plans"] >= 3 and counts["custom_plans"] <= 5, dict(counts)
    finally:
        await db.disconnect()
    values = {"owner_id": owner_id, "tsquery": "'rare'", "limit": 20, "rank_limit": 100}
    plan = (await _generic_plan(seeded, statement, values)).split("CTE Scan")[0]
    # The matches come from a text index, not from the owner's index range.
    assert "Bitmap Index Scan on notes_" in plan, plan
    assert "notes_owner" not in plan and "idx_notes_owner" not in plan, plan


async def test_the_plans_migration_undoes_the_old_database_setting(
    seeded: asyncpg.Connection,
) -> None:
    migration = importlib.import_module("migrations.models.3_20261130043000_perf_read_plans_gin")
    setting = """SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d
                 ON d.oid = s.setdatabase WHERE d.datname = current_database()"""
    name = await seeded.fetchval("SELECT current_database()")
    await seeded.execute(f'ALTER DATABASE "{name}" SET plan_cache_mode = force_custom_plan')
    assert await seeded.fetchval(setting) == 1
    await seeded.execute(await migration.upgrade(None))
    assert await seeded.fetchval(setting) == 0
    pending = "SELECT reloptions FROM pg_class WHERE relname = 'notes_search_gin'"
    assert await seeded.fetchval(pending) == ["gin_pending_list_limit=256"]
