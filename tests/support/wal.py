"""The embedded test server's WAL, kept small.

PostgreSQL keeps old WAL segments for reuse, up to `max_wal_size` (1 GB by default), and one run
of the suite writes more than that (every CREATE DATABASE logs a copy of its template, ~8 MB;
the bulk and streaming tests write hundreds of MB of notes). So `.pgdata-test` kept ~600 MB of
WAL after each run, with no replication slot, archive or wal_keep_size involved. A smaller
`max_wal_size` checkpoints sooner (in the background, spread out) and recycles less.
"""

from __future__ import annotations

import asyncpg

SEGMENT = 16 << 20
MAX_WAL_SIZE = 96 << 20
# Set with ALTER SYSTEM: kept in .pgdata-test/postgresql.auto.conf, for a server already running
# too (both settings take a reload, not a restart).
SETTINGS = {"max_wal_size": f"{MAX_WAL_SIZE >> 20}MB", "min_wal_size": f"{2 * SEGMENT >> 20}MB"}
# After a checkpoint: the recycled segments (at most max_wal_size), the current one, and a
# segment or two being filled by whoever still writes.
BOUND = MAX_WAL_SIZE + 3 * SEGMENT


async def bound_wal(server_url: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        for name, value in SETTINGS.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


async def wal_bytes(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(sum(size), 0) FROM pg_ls_waldir()"))


async def check_wal(server_url: str) -> None:
    """After a checkpoint, pg_wal holds no more than BOUND, and no replication slot pins it."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute("CHECKPOINT")  # what the server's stop would do anyway
        size = await wal_bytes(conn)
        slots = [
            r["slot_name"] for r in await conn.fetch("SELECT slot_name FROM pg_replication_slots")
        ]
        setting = await conn.fetchval("SELECT current_setting('max_wal_size')")
    finally:
        await conn.close()
    assert not slots, f"replication slots left on the test server pin its WAL: {slots}"
    assert size <= BOUND, (
        f"the test server's pg_wal holds {size >> 20} MB after a checkpoint, more than "
        f"{BOUND >> 20} MB (max_wal_size is {setting}; see tests/support/wal.py)"
    )
