"""Faults injected into the database, to fail a write halfway through its transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import connections


@asynccontextmanager
async def failing_trigger(name: str, on: str, when: str, message: str) -> AsyncIterator[None]:
    """A test-only trigger `name`, `on` e.g. "BEFORE INSERT ON revisions", that raises `message`
    for the rows `when` selects; dropped on the way out."""
    table = on.rsplit(" ", 1)[1]
    db = connections.get("default")
    await db.execute_script(
        f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{message}'; END $$;
        CREATE TRIGGER {name} {on} FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {name}();
        """
    )
    try:
        yield
    finally:
        await db.execute_script(
            f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}();"
        )
