"""The database goes away and comes back, under a real uvicorn, against a PostgreSQL that these
tests stop and start themselves."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from notes_service.platform.embedded import EmbeddedPostgres
from tests.support.cli import run_cli
from tests.support.servers import Service, cli_key, free_port, service, wait_for

PROBLEM = "application/problem+json"
ACQUIRE_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def controlled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("controlled-pg"), free_port())
    server.start()
    result = run_cli("migrate", database_url=server.url)
    assert result.returncode == 0, result.stderr
    yield server
    server.stop()


@pytest.fixture
def db(controlled_server: EmbeddedPostgres) -> Iterator[EmbeddedPostgres]:
    """The controlled server, running at the start of each test and again after it."""
    controlled_server.start()
    yield controlled_server
    controlled_server.start()


def _env(server: EmbeddedPostgres, **extra: str) -> dict[str, str]:
    return {
        "NOTES_DATABASE_URL": server.url,
        "NOTES_DB_ACQUIRE_TIMEOUT": str(ACQUIRE_TIMEOUT),
        **extra,
    }


def _assert_unavailable(svc: Service, path: str, headers: dict[str, str]) -> None:
    # A hang would end in the client's bounded wait (svc.get's timeout) as an error.
    response = svc.get(path, headers=headers)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["type"].endswith(":unavailable")


def test_database_outage_gives_503_then_the_same_process_recovers(
    db: EmbeddedPostgres, tmp_path: Path
) -> None:
    headers = cli_key(db.url)
    with service(tmp_path / "service.log", _env(db)) as svc:
        svc.wait_ready()
        assert svc.get("/v1/notes", headers=headers).status_code == 200
        pid = svc.process.pid

        db.stop()
        try:
            _assert_unavailable(svc, "/v1/notes", headers)
            _assert_unavailable(svc, f"/v1/notes/{uuid.uuid4()}", headers)
            ready = svc.get("/readyz")
            assert ready.status_code == 503
            assert ready.headers["content-type"] == PROBLEM
            assert ready.json()["checks"]["write_pool"] == "failed"
            assert ready.json()["checks"]["read_pool"] == "failed"
            assert "write_pool" in ready.json()["detail"]
            assert svc.get("/healthz").status_code == 200
        finally:
            db.start()

        statuses: list[int] = []

        def serves_notes() -> bool:
            statuses.append(svc.get("/v1/notes", headers=headers).status_code)
            return statuses[-1] == 200

        wait_for(serves_notes, 30, "the service to serve 200s again")
        assert set(statuses) <= {200, 503}, statuses
        created = svc.client_post("/v1/notes", {"title": "after the outage"}, headers)
        assert created.status_code == 201
        assert svc.get("/readyz").status_code == 200
        assert svc.process.pid == pid and svc.process.poll() is None
        assert svc.terminate() == 0
    lines = [json.loads(line) for line in svc.log().splitlines()]  # every line is JSON
    statuses_logged = [line["status"] for line in lines if line["logger"] == "notes_service.access"]
    assert 503 in statuses_logged and 500 not in statuses_logged


def test_start_up_waits_for_a_database_that_comes_up_in_time(
    db: EmbeddedPostgres, tmp_path: Path
) -> None:
    db.stop()
    with service(tmp_path / "service.log", _env(db, NOTES_DB_CONNECT_TIMEOUT="60")) as svc:
        wait_for(lambda: "retrying in" in svc.log(), 30, "a retry to be logged")
        assert svc.process.poll() is None
        db.start()
        svc.wait_ready(60)
        assert "reachable after" in svc.log()
        assert svc.terminate() == 0


def test_start_up_gives_up_with_one_clear_line_when_the_database_is_too_late(
    db: EmbeddedPostgres, tmp_path: Path
) -> None:
    db.stop()
    with service(tmp_path / "service.log", _env(db, NOTES_DB_CONNECT_TIMEOUT="3")) as svc:
        returncode = svc.process.wait(60)
    db.start()  # too late: the service has already given up
    assert returncode != 0
    log = svc.log()
    assert "Traceback" not in log
    last = log.strip().splitlines()[-1]
    assert last.startswith("notes-service: database 127.0.0.1:")
    assert "not reachable after 3s" in last and "giving up" in last
    # It kept retrying until the connect timeout rather than giving up at the first refusal.
    attempts = re.search(r"\((\d+) attempts;", last)
    assert attempts is not None and int(attempts[1]) >= 2, last
