"""Fresh planner statistics after a bulk write.

Autovacuum analyzes a table only after ~10% of it has changed, up to a minute later (and not at
all where it is off): until then the planner believes an owner who just imported 20,000 notes
has a handful, and can pick a nested loop that takes seconds. So a bulk write (an import, a
batch, a CLI import chunk) checks, after its commit, whether the tables it wrote have changed
past autovacuum's own rule since their last analysis, and if so analyzes them at once, before
the writer gets its answer. A check is one small catalog read; an ANALYZE samples a fixed number
of rows, so it costs about the same on a big table as on a small one.
"""

from __future__ import annotations

import logging

from tortoise import connections

from notes_service.notes import sql

logger = logging.getLogger(__name__)

# The tables a bulk write fills (each name a constant: it is put into ANALYZE as is).
WRITTEN_TABLES = ("notes", "revisions", "note_tags", "tags")
# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor's defaults.
ANALYZE_THRESHOLD = 50
ANALYZE_SCALE = 0.1


async def analyze_if_stale(written: int) -> list[str]:
    """ANALYZE each written table whose changes since its last analysis (those counted by the
    server, plus the `written` rows of this commit, which it may not have counted yet) pass
    autovacuum's threshold. Returns the tables analyzed. Never fails the write it follows."""
    db = connections.get("default")
    try:
        _, rows = await db.execute_query(
            sql.STALE_TABLES, [list(WRITTEN_TABLES), written, ANALYZE_THRESHOLD, ANALYZE_SCALE]
        )
        stale = [row["relname"] for row in rows if row["relname"] in WRITTEN_TABLES]
        for table in stale:
            await db.execute_script(f'ANALYZE "{table}"')
    except Exception as exc:  # the data is committed; only the plans may stay slow a while
        logger.warning("statistics: ANALYZE after a bulk write failed (%s)", type(exc).__name__)
        return []
    if stale:
        logger.info("statistics: analyzed %s after a bulk write", ", ".join(stale))
    return stale
