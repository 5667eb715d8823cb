"""Every list sort is served by an index range scan: no Sort node, whatever the page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from tortoise import connections

from notes_service.queries import sql
from tests.factories import owner_with_key

SEED = """
INSERT INTO notes (id, owner_id, title, body, pinned, archived, version, created_at, updated_at)
SELECT gen_random_uuid(), o.id, 'note ' || g, 'body of note ' || g, g % 10 = 0, g % 7 = 0, 1,
       now() - g * interval '1 minute', now() - (g % 500) * interval '1 second'
FROM generate_series(1, 4000) AS g, owners o;
ANALYZE notes;
"""


async def _plan(app: FastAPI, statement: str, values: dict[str, object]) -> str:
    rows = await app.state.read_db.fetch_all("EXPLAIN " + statement, values)
    return "\n".join(str(row["QUERY PLAN"]) for row in rows)


@pytest.mark.parametrize("sort", list(sql.SORTS))
@pytest.mark.parametrize("after_cursor", [False, True])
async def test_every_sort_is_an_index_range_scan(
    client: httpx.AsyncClient, app: FastAPI, sort: str, after_cursor: bool
) -> None:
    owner_id, _ = await owner_with_key("alice")
    for name in ("bob", "carol", "dave"):
        await owner_with_key(name)
    await connections.get("default").execute_script(SEED)

    values: dict[str, object] = {
        "owner_id": owner_id,
        "tags": [],
        "pinned": None,
        "archived": False,
        "trashed": False,
        "updated_after": None,
        "as_of": datetime.now(UTC) if sort.endswith("updated_at") else None,
        "limit": 21,
    }
    if after_cursor:
        values |= {"after_ts": datetime.now(UTC), "after_id": uuid.uuid4()}
    plan = await _plan(app, sql.LIST_NOTES[sort, after_cursor], values)
    column = sort.lstrip("-")
    assert "Index Scan" in plan, plan
    # The tags subselect (a SubPlan per row) sorts tag names; the scan itself must not sort.
    scan = plan.split("SubPlan")[0]
    assert "Sort" not in scan.replace("Sort Key", ""), plan
    expected_index = (
        "idx_notes_owner_i_aef6f5" if column == "updated_at" else "notes_owner_created_id"
    )
    assert expected_index in plan, plan
    if after_cursor:
        index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
        assert f"(owner_id = {owner_id})" in index_cond, plan
        assert f"ROW({column}, id)" in index_cond, plan


async def test_statements_are_planned_with_their_values(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # A generic plan would not know the owner or the tsquery (see the read-side migration).
    row = await app.state.read_db.fetch_one("SHOW plan_cache_mode", {})
    assert row is not None and row["plan_cache_mode"] == "force_custom_plan"
