"""Graceful shutdown and workers, under a real uvicorn."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx

from tests.support.metrics import gauge
from tests.support.servers import Service, cli_key, service, until


async def test_sigterm_lets_an_in_flight_request_complete_and_closes_both_pools(
    database_url: str, tmp_path: Path
) -> None:
    headers = cli_key(database_url) | {"Content-Type": "application/json"}
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        # An honest slow request: the client is still sending its body when SIGTERM arrives.
        yield b'{"title": "written during shutdown", '
        await release.wait()
        yield b'"body": "the rest arrived after SIGTERM"}'

    with service(tmp_path / "service.log", {"NOTES_DATABASE_URL": database_url}) as svc:
        svc.wait_ready()
        async with httpx.AsyncClient(base_url=svc.url, timeout=30) as client:
            request = asyncio.create_task(
                client.post("/v1/notes", content=slow_body(), headers=headers)
            )
            async with httpx.AsyncClient(base_url=svc.url, timeout=30) as probe:
                # In flight at the server: the slow request, plus this scrape itself.
                await until(lambda: _at_least(probe, 2), 20, "the slow request to be in flight")
            svc.process.send_signal(signal.SIGTERM)
            await until(lambda: "Shutting down" in svc.log(), 20, "shutdown to begin")
            try:
                await client.get("/healthz")
                raise AssertionError("a new request was accepted after SIGTERM")
            except httpx.TransportError:
                pass  # the listening socket is closed: no new work
            release.set()
            response = await request
        assert response.status_code == 201, response.text
        returncode = await asyncio.to_thread(svc.process.wait, 40)

    assert returncode == 0
    log = svc.log()
    assert "stopped: write and read pools closed" in log
    assert log.index("POST /v1/notes 201") < log.index("stopped: write and read pools closed")
    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetchval("SELECT body FROM notes WHERE id = $1", response.json()["id"])
    finally:
        await conn.close()
    assert stored == "the rest arrived after SIGTERM"


async def _at_least(probe: httpx.AsyncClient, n: int) -> bool:
    return await gauge(probe, "http_requests_in_flight") >= n


def test_serve_runs_the_requested_number_of_workers(database_url: str, tmp_path: Path) -> None:
    with service(
        tmp_path / "service.log", {"NOTES_DATABASE_URL": database_url}, "--workers", "2"
    ) as svc:
        svc.wait_ready()
        workers = _workers(svc)
        assert len(workers) == 2
        for _ in range(10):
            assert svc.get("/readyz").status_code == 200
        assert svc.terminate() == 0
    assert svc.log().count("stopped: write and read pools closed") == 2


def _workers(svc: Service) -> list[int]:
    pid = svc.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    # uvicorn spawns its workers with multiprocessing; skip its resource tracker, if any.
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]
