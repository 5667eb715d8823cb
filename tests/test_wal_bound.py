"""The embedded test server keeps its WAL small (tests/support/wal.py); conftest.py checks the
outcome at the end of every run, this the settings that bring it."""

from __future__ import annotations

import os

import asyncpg
import pytest

from tests.support import wal


async def test_the_embedded_test_server_recycles_little_wal(server_url: str) -> None:
    if os.environ.get("NOTES_TEST_DATABASE_URL"):
        pytest.skip("a server given by NOTES_TEST_DATABASE_URL is not ours to configure")
    conn = await asyncpg.connect(server_url)
    try:
        settings = {
            name: await conn.fetchval("SELECT pg_size_bytes(current_setting($1))", name)
            for name in ("max_wal_size", "min_wal_size", "wal_keep_size")
        }
        archive_mode = await conn.fetchval("SELECT current_setting('archive_mode')")
        slots = await conn.fetchval("SELECT count(*) FROM pg_replication_slots")
    finally:
        await conn.close()
    assert settings == {
        "max_wal_size": wal.MAX_WAL_SIZE,
        "min_wal_size": 2 * wal.SEGMENT,
        "wal_keep_size": 0,
    }
    assert archive_mode == "off" and slots == 0
    assert wal.BOUND < 200 << 20  # a few screens of segments, not the 600 MB of before
