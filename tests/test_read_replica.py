"""The read side runs on a read-only connection, as it would on a replica.

The read-only role also sees the data differently: row-level security hides one note from it,
as a replica that has not yet replayed that write would. So an answer that lacks the note came
through the read pool, and one that has it did not (tests/test_standby.py does the same with a
real standby and paused replay).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from notes_service.platform.read_db import ReadDatabase
from notes_service.platform.settings import Settings
from notes_service.queries.repository import NoteQueries
from tests.support.factories import api_key, create_note

LAGGING = "not yet on the replica"
READ_ROUTES = [
    ("/v1/notes", {}),
    ("/v1/notes", {"sort": "created_at", "trashed": "true"}),
    ("/v1/search", {"q": "replica"}),
    ("/v1/search", {"q": "replca", "fuzzy": "true"}),
    ("/v1/tags", {}),
    ("/v1/stats", {}),
    ("/v1/changes", {}),
    ("/v1/export", {"revisions": "true"}),
]


@pytest.fixture
async def read_only_app(
    app: FastAPI, settings: Settings, database_url: str
) -> AsyncIterator[FastAPI]:
    role = f"notes_ro_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN")
        await admin.execute(f"ALTER ROLE {role} SET default_transaction_read_only = on")
        await admin.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        await admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        # The write side connects as a superuser, which row-level security never filters.
        await admin.execute("ALTER TABLE notes ENABLE ROW LEVEL SECURITY")
        await admin.execute(
            f"CREATE POLICY {role} ON notes FOR SELECT TO {role} USING (title <> '{LAGGING}')"
        )
        parts = urlsplit(database_url)
        netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
        read_url = urlunsplit(parts._replace(netloc=netloc))
        read_db = ReadDatabase(settings.model_copy(update={"read_database_url": read_url}))
        await read_db.connect()
        primary, queries = app.state.read_db, app.state.note_queries
        app.state.read_db = read_db
        app.state.note_queries = NoteQueries(read_db, settings.search_rank_limit)
        try:
            yield app
        finally:
            app.state.read_db, app.state.note_queries = primary, queries
            await read_db.disconnect()
    finally:
        await admin.execute(f"DROP POLICY IF EXISTS {role} ON notes")
        await admin.execute("ALTER TABLE notes DISABLE ROW LEVEL SECURITY")
        await admin.execute(f"DROP OWNED BY {role}")
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def test_every_read_route_works_on_a_read_only_connection(
    client: httpx.AsyncClient, read_only_app: FastAPI
) -> None:
    headers = await api_key()
    note = await create_note(client, headers, title="replica note", body="replica", tags=["r"])
    hidden = await create_note(client, headers, title=LAGGING, body="replica", tags=["lagging"])
    # The single-note route is on the write side: it sees the note the read role cannot.
    by_id = await client.get(f"/v1/notes/{hidden['id']}", headers=headers)
    assert by_id.status_code == 200, by_id.text
    with pytest.raises(asyncpg.exceptions.ReadOnlySQLTransactionError):
        await read_only_app.state.read_db.fetch_all(
            "INSERT INTO owners (name, created_at) VALUES ('x', now())", {}
        )
    for path, params in READ_ROUTES:
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, (path, response.text)
        # Answered through the read pool: the note hidden from its role is nowhere.
        assert hidden["id"] not in response.text and "lagging" not in response.text, path
        if path != "/v1/stats" and "trashed" not in params:
            assert note["id"] in response.text or '"r"' in response.text, path
    listed = (await client.get("/v1/notes", headers=headers)).json()
    assert [item["id"] for item in listed["items"]] == [note["id"]]
    stats = (await client.get("/v1/stats", headers=headers)).json()
    assert (stats["notes"], stats["tags"], stats["revisions"]) == (1, 1, 1)
