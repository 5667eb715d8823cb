"""What every response carries at the HTTP edge, and what `serve` sets on uvicorn."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.factories import api_key, create_note
from tests.support.raw_http import raw_get
from tests.support.servers import cli_key, service, wait_for

PROBLEM = "application/problem+json"


async def test_api_responses_say_nosniff_and_private_revalidated_caching(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    url = f"/v1/notes/{note['id']}"
    responses = [
        await client.get(url, headers=headers),
        await client.get("/v1/notes", headers=headers),
        await client.get(f"/v1/notes/{uuid.uuid4()}", headers=headers),  # a problem
        await client.get("/v1/notes"),  # 401
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert response.headers["cache-control"] == "private, no-cache", response.url


async def test_revalidation_with_the_etag_still_gets_a_304(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    url = f"/v1/notes/{note['id']}"
    first = await client.get(url, headers=headers)
    again = await client.get(url, headers=headers | {"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "private, no-cache"


async def test_probes_say_nosniff_without_the_api_cache_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in response.headers


def _connection_closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False


@contextmanager
def _open_stream(port: int, headers: dict[str, str]) -> Iterator[None]:
    with raw_get(port, "/v1/changes/stream", headers) as sock:
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        yield


def test_serve_applies_the_http_settings_and_sends_no_server_banner(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "NOTES_DATABASE_URL": database_url,
        "NOTES_METRICS_TOKEN": "metrics-secret",
        "NOTES_KEEP_ALIVE_TIMEOUT": "1",
        "NOTES_LIMIT_CONCURRENCY": "2",
    }
    headers = cli_key(database_url, owner=f"edges-{uuid.uuid4().hex[:8]}")
    with service(tmp_path / "service.log", env) as svc:
        svc.wait_ready()
        response = svc.get("/v1/notes", headers=headers)
        assert response.status_code == 200
        assert "server" not in response.headers

        # /metrics needs the token, and answers a problem without it.
        assert svc.get("/metrics").status_code == 401
        wrong = svc.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["content-type"] == PROBLEM
        good = svc.get("/metrics", headers={"Authorization": "Bearer metrics-secret"})
        assert good.status_code == 200 and "http_requests_total" in good.text

        # An idle keep-alive connection is closed after NOTES_KEEP_ALIVE_TIMEOUT.
        with socket.create_connection(("127.0.0.1", svc.port)) as idle:
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: notes\r\n\r\n")
            assert idle.recv(65536).startswith(b"HTTP/1.1 200")
            idle.setblocking(False)
            wait_for(lambda: _connection_closed_by_server(idle), 20, "the idle connection to close")

        # Two open change streams are two API requests in flight, NOTES_LIMIT_CONCURRENCY: the
        # next API request gets a problem+json 503 with Retry-After; the probes still answer.
        with _open_stream(svc.port, headers), _open_stream(svc.port, headers):
            refused = svc.get("/v1/notes", headers=headers)
            assert refused.status_code == 503
            assert refused.headers["content-type"] == PROBLEM
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["type"] == "urn:notes-service:problem:overloaded"
            assert svc.get("/healthz").status_code == 200
        wait_for(lambda: svc.answers("/v1/notes", 401), 20, "API requests to be taken again")
        assert svc.terminate() == 0
