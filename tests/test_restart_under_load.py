"""PostgreSQL is stopped (`pg_ctl stop -m fast`) and started again, several times, while writers
and readers keep a real uvicorn busy. Every answer must be 2xx, 4xx or a 503, and every write the
service acknowledged must be stored exactly once, at exactly the acknowledged content."""

from __future__ import annotations

import asyncio
import itertools
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from notes_service.platform.embedded import EmbeddedPostgres
from tests.support.cli import run_cli
from tests.support.servers import cli_key, free_port, service, until

WRITERS = 8
READERS = 4
RESTARTS = 3
# Bounds, not timing asserts: how long the load runs around each stop and start.
LOAD_BEFORE_STOP = 1.0
DOWN_FOR = 1.5
RECOVERY_LIMIT = 60.0
REQUEST_TIMEOUT = 30.0


@dataclass
class Ledger:
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    # Idempotency key -> title, for every create attempted; and id -> title once acknowledged.
    attempted: dict[str, str] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)
    # (note id, version) -> title, for every acknowledged PATCH.
    patched: dict[tuple[str, int], str] = field(default_factory=dict)
    successes_since_restart: int = 0

    def record(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code >= 500 and response.status_code != 503:
            self.failures.append(f"{response.status_code} {response.request.url}")
        elif response.status_code == 503 and "retry-after" not in response.headers:
            self.failures.append(f"503 without Retry-After: {response.request.url}")
        elif response.status_code < 300:
            self.successes_since_restart += 1


@pytest.fixture
def own_server() -> Iterator[EmbeddedPostgres]:
    # Not under pytest's temporary folder: another pytest run resets its root to 0700, and the
    # server's own user could then no longer reach the data folder to stop it.
    with tempfile.TemporaryDirectory(prefix="notes-restart-load-") as folder:
        server = EmbeddedPostgres(Path(folder) / "pg", free_port())
        server.start()
        try:
            result = run_cli("migrate", database_url=server.url)
            assert result.returncode == 0, result.stderr
            yield server
        finally:
            server.stop()


async def _writer(n: int, client: httpx.AsyncClient, ledger: Ledger, stop: asyncio.Event) -> None:
    note_id: str | None = None
    for step in itertools.count():
        if stop.is_set():
            return
        try:
            if note_id is None or step % 2 == 0:
                key = f"w{n}-{step}"
                title = f"writer {n} note {step}"
                ledger.attempted[key] = title
                # A create is retried with its key until acknowledged: one key, one note.
                while not stop.is_set():
                    response = await client.post(
                        "/v1/notes", json={"title": title}, headers={"Idempotency-Key": key}
                    )
                    ledger.record(response)
                    if response.status_code == 201:
                        note_id = response.json()["id"]
                        ledger.created[note_id] = title
                        break
                    await asyncio.sleep(0.05)
            else:
                title = f"writer {n} edit {step}"
                response = await client.patch(
                    f"/v1/notes/{note_id}", json={"title": title, "tags": [f"w{n}"]}
                )
                ledger.record(response)
                if response.status_code == 200:
                    ledger.patched[(note_id, response.json()["version"])] = title
        except httpx.TransportError as exc:  # the service itself must never go away
            ledger.failures.append(f"transport error: {exc!r}")
            await asyncio.sleep(0.05)


async def _reader(client: httpx.AsyncClient, ledger: Ledger, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            ledger.record(await client.get("/v1/notes", params={"limit": 5}))
            for note_id in list(ledger.created)[-3:]:
                ledger.record(await client.get(f"/v1/notes/{note_id}"))
        except httpx.TransportError as exc:
            ledger.failures.append(f"transport error: {exc!r}")
        await asyncio.sleep(0.01)


async def _wait_for_successes(ledger: Ledger, count: int) -> None:
    ledger.successes_since_restart = 0
    await until(lambda: ledger.successes_since_restart >= count, RECOVERY_LIMIT, "successes again")


async def _run_load(
    url: str, headers: dict[str, str], db: EmbeddedPostgres, ledger: Ledger
) -> None:
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=WRITERS + READERS)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=REQUEST_TIMEOUT, limits=limits
    ) as client:
        tasks = [asyncio.create_task(_writer(n, client, ledger, stop)) for n in range(WRITERS)]
        tasks += [asyncio.create_task(_reader(client, ledger, stop)) for _ in range(READERS)]
        try:
            for _ in range(RESTARTS):
                await _wait_for_successes(ledger, 50)
                await asyncio.sleep(LOAD_BEFORE_STOP)
                await asyncio.to_thread(db.stop)
                await asyncio.sleep(DOWN_FOR)
                await asyncio.to_thread(db.start)
            await _wait_for_successes(ledger, 50)
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def _verify(url: str, headers: dict[str, str], ledger: Ledger) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        export = await client.get("/v1/export")
        assert export.status_code == 200
        stored = [json.loads(line) for line in export.text.splitlines()]
        titles = Counter(note["title"] for note in stored)
        by_id = {note["id"]: note for note in stored}
        create_titles = set(ledger.attempted.values())
        # 0 lost: every acknowledged create is stored.
        lost = [note_id for note_id in ledger.created if note_id not in by_id]
        assert not lost, f"{len(lost)} acknowledged notes are missing"
        # 0 duplicated: no create key made two notes.
        duplicated = [t for t, count in titles.items() if t in create_titles and count > 1]
        assert not duplicated, duplicated[:5]
        # Every acknowledged PATCH is the revision at its acknowledged version.
        for (note_id, version), title in ledger.patched.items():
            assert by_id[note_id]["version"] >= version
            revision = await client.get(f"/v1/notes/{note_id}/revisions/{version}")
            assert revision.status_code == 200
            assert revision.json()["title"] == title


async def test_restarts_under_load_lose_nothing_and_answer_only_2xx_4xx_or_503(
    own_server: EmbeddedPostgres, tmp_path: Path
) -> None:
    headers = cli_key(own_server.url, owner="restart-load")
    env = {
        "NOTES_DATABASE_URL": own_server.url,
        "NOTES_DB_ACQUIRE_TIMEOUT": "2",
        "NOTES_DB_POOL_MAX": "6",
        "NOTES_READ_DB_POOL_MAX": "4",
        "NOTES_LOG_LEVEL": "WARNING",
    }
    ledger = Ledger()
    with service(tmp_path / "service.log", env) as svc:
        await asyncio.to_thread(svc.wait_ready)
        await _run_load(svc.url, headers, own_server, ledger)
        await _verify(svc.url, headers, ledger)
        log = svc.log()
        assert svc.terminate() == 0
    assert not ledger.failures, (ledger.failures[:10], dict(ledger.statuses))
    assert ledger.statuses[503] > 0, "the outages were never seen"
    assert len(ledger.created) > 0 and len(ledger.patched) > 0
    lines = [json.loads(line) for line in log.splitlines()]
    errors = [line for line in lines if line["level"] in ("error", "critical")]
    assert not errors, errors[:3]
    statuses = Counter(line["status"] for line in lines if "status" in line)
    assert all(status < 500 or status == 503 for status in statuses), statuses
