from __future__ import annotations

import asyncpg

from notes_service.platform.db import MIGRATIONS_DIR
from tests.support.cli import aerich


async def test_aerich_upgrade_builds_the_schema_on_an_empty_database(empty_database: str) -> None:
    result = aerich("upgrade", database_url=empty_database)
    assert result.returncode == 0, result.stdout + result.stderr

    conn = await asyncpg.connect(empty_database)
    try:
        tables = {
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        assert {"owners", "api_keys", "notes", "aerich"} <= tables
        columns = {
            r["column_name"]: (r["data_type"], r["is_nullable"])
            for r in await conn.fetch(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_name = 'notes'"
            )
        }
        assert columns["id"] == ("uuid", "NO")
        assert columns["version"] == ("integer", "NO")
        assert columns["deleted_at"] == ("timestamp with time zone", "YES")
        assert columns["updated_at"] == ("timestamp with time zone", "NO")
        unique_hash = await conn.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'api_keys' "
            "AND indexdef LIKE 'CREATE UNIQUE INDEX%key_hash%'"
        )
        assert unique_hash == 1
        applied = [r["version"] for r in await conn.fetch("SELECT version FROM aerich ORDER BY id")]
    finally:
        await conn.close()
    files = sorted(
        (p.name for p in (MIGRATIONS_DIR / "models").glob("*.py")),
        key=lambda name: int(name.split("_")[0]),
    )
    assert applied == files

    again = aerich("upgrade", database_url=empty_database)
    assert again.returncode == 0
    assert "No upgrade items found" in again.stdout + again.stderr


async def test_existing_keys_get_every_scope(empty_database: str) -> None:
    """Migration `api_key_scopes`: a key made before scopes existed keeps all it could do."""
    assert aerich("upgrade", database_url=empty_database).returncode == 0
    down = aerich("downgrade", "-v", "8", "--yes", database_url=empty_database)
    assert down.returncode == 0, down.stdout + down.stderr
    conn = await asyncpg.connect(empty_database)
    try:
        await conn.execute("INSERT INTO owners (name, created_at) VALUES ('old', now())")
        await conn.execute(
            "INSERT INTO api_keys (id, owner_id, label, key_hash, created_at) "
            "SELECT gen_random_uuid(), id, '', repeat('a', 64), now() FROM owners"
        )
        up = aerich("upgrade", database_url=empty_database)
        assert up.returncode == 0, up.stdout + up.stderr
        scopes = await conn.fetchval("SELECT scopes::text FROM api_keys")
        assert scopes == '["notes:read", "notes:write", "keys:write", "webhooks:write"]'
        assert await conn.fetchval("SELECT expires_at FROM api_keys") is None
    finally:
        await conn.close()
