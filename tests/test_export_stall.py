"""A client that starts `GET /v1/export` and stops reading must not hold a read-pool connection
(or an open transaction) while it stalls: the export runs in short chunks, each its own
statement, with the connection back in the pool between them."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from tests.support.metrics import gauge
from tests.support.raw_http import dechunk
from tests.support.servers import Service, cli_key, service, until

NOTES = 200
BODY = "x" * 40_000  # with its revision, 80 KB a note: 16 MB, far over the socket buffers
STALLED_POLLS = 5


@pytest.fixture(scope="module")
def export_service(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    env = {"NOTES_DATABASE_URL": database_url, "NOTES_READ_DB_POOL_MAX": "2"}
    with service(tmp_path_factory.mktemp("export") / "service.log", env) as svc:
        svc.wait_ready()
        yield svc
        assert svc.terminate() == 0


async def test_a_stalled_export_client_holds_no_connection_and_no_transaction(
    export_service: Service, database_url: str
) -> None:
    headers = cli_key(database_url, owner=f"export-stall-{uuid.uuid4().hex[:8]}")
    async with httpx.AsyncClient(base_url=export_service.url, headers=headers) as client:
        for _ in range(NOTES // 20):
            batch = {"notes": [{"title": f"n{i}", "body": BODY} for i in range(20)]}
            assert (await client.post("/v1/notes/batch", json=batch)).status_code == 201

        # A client with a tiny receive window that reads 300 bytes, then stops reading.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        url = urlsplit(export_service.url)
        sock.connect((url.hostname, url.port))
        sock.setblocking(False)
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        writer.write(
            b"GET /v1/export?revisions=true HTTP/1.0\r\nHost: notes\r\n"
            + f"Authorization: {headers['Authorization']}\r\n\r\n".encode()
        )
        await writer.drain()
        head = await reader.readexactly(300)
        assert head.startswith(b"HTTP/1.1 200")

        admin = await asyncpg.connect(database_url)
        try:
            idle_in_transaction = (
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                "AND application_name LIKE 'notes-service%'"
            )
            free_polls = 0

            async def stays_free() -> bool:
                # Several polls in a row: the pool is free while the client stalls, not only
                # for a moment between two chunks.
                nonlocal free_polls
                free = await gauge(client, "db_pool_connections_in_use", pool="read") == 0
                free = free and await admin.fetchval(idle_in_transaction) == 0
                free_polls = free_polls + 1 if free else 0
                await asyncio.sleep(0.2)
                return free_polls >= STALLED_POLLS

            await until(stays_free, 20, "the read pool to be free while the client stalls")
        finally:
            await admin.close()

        # The client resumes: the whole export arrives, complete and well formed.
        rest = await reader.read()
        writer.close()
        response_head, body = (head + rest).split(b"\r\n\r\n", 1)
        if b"transfer-encoding: chunked" in response_head.lower():
            body = dechunk(body)
        lines = [json.loads(line) for line in body.splitlines()]
    assert len(lines) == NOTES
    assert all(len(note["revisions"]) == 1 for note in lines)
    assert all(note["revisions"][0]["body"] == BODY for note in lines)
