"""Probes, metrics, logs and the offline docs, in process."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from tortoise import connections

from notes_service.platform.logs import make_handler
from tests.support.factories import api_key, create_note
from tests.support.metrics import series

PROBLEM = "application/problem+json"


async def test_readyz_reports_every_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"write_pool": "ok", "read_pool": "ok", "migrations": "ok", "listener": "ok"},
    }


@pytest.fixture
async def newer_migration_recorded() -> AsyncIterator[None]:
    """The database claims a migration this code does not have (as after a rollback of code)."""
    db = connections.get("default")
    await db.execute_query(
        "INSERT INTO aerich (version, app, content) VALUES ('999_future.py', 'models', '{}')"
    )
    yield
    await db.execute_query("DELETE FROM aerich WHERE version = '999_future.py'")


@pytest.mark.usefixtures("newer_migration_recorded")
async def test_readyz_is_503_naming_the_migration_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    problem = response.json()
    assert problem["type"].endswith(":not-ready")
    assert problem["detail"] == "Readiness checks failed: migrations"
    assert problem["checks"]["write_pool"] == "ok" and problem["checks"]["read_pool"] == "ok"
    assert problem["checks"]["migrations"].startswith("behind: database at 999_future.py")


async def test_metrics_names_and_labels(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    assert (await client.get(f"/v1/notes/{note['id']}", headers=headers)).status_code == 200
    assert (await client.get(f"/v1/notes/{uuid.uuid4()}", headers=headers)).status_code == 404
    assert (await client.get("/no/such/path")).status_code == 404
    assert (await client.request("BREW", "/v1/notes")).status_code == 405

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = series(response.text)

    counted = {
        (labels["route"], labels["method"], labels["status"])
        for labels, _ in samples["http_requests_total"]
    }
    # The route template, never the raw path: one series per route, whatever the ids.
    assert ("/v1/notes/{note_id}", "GET", "200") in counted
    assert ("/v1/notes/{note_id}", "GET", "404") in counted
    assert ("/v1/notes", "POST", "201") in counted
    assert ("unmatched", "GET", "404") in counted
    assert ("/v1/notes", "OTHER", "405") in counted
    assert not any(note["id"] in route for route, _, _ in counted)
    for labels, _ in samples["http_request_duration_seconds_bucket"]:
        assert set(labels) == {"route", "method", "status", "le"}
    assert samples["http_request_duration_seconds_count"]
    # The scrape itself is in flight while it is rendered.
    assert samples["http_requests_in_flight"] == [({}, 1.0)]
    for name in ("db_pool_size", "db_pool_connections_in_use", "db_pool_waiters"):
        assert {labels["pool"] for labels, _ in samples[name]} == {"write", "read"}, name
    pools = {labels["pool"]: value for labels, value in samples["db_pool_max_size"]}
    assert pools == {"write": 5.0, "read": 5.0}  # the session app's settings
    sizes = {labels["pool"]: value for labels, value in samples["db_pool_size"]}
    assert sizes["write"] >= 1 and sizes["read"] >= 1


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the service's JSON handler writes, captured from the root logger."""
    stream = io.StringIO()
    handler = make_handler("json")
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_json_access_line_per_request(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    headers = await api_key(owner="logger") | {"X-Request-ID": "trace-access-1"}
    response = await client.post("/v1/notes", json={"title": "logged"}, headers=headers)
    assert response.status_code == 201
    access = [line for line in _lines(json_log) if line["logger"] == "notes_service.access"]
    assert len(access) == 1
    line = access[0]
    assert line["method"] == "POST"
    assert line["route"] == "/v1/notes"
    assert line["status"] == 201
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == "trace-access-1"
    assert line["owner"] == "logger"
    assert line["level"] == "info" and str(line["ts"]).endswith("Z")


@pytest.fixture(scope="module")
def logging_route(app: FastAPI) -> None:
    async def chatty() -> dict[str, str]:
        logging.getLogger("notes_service.test").info("inside the handler")
        return {"ok": "yes"}

    app.add_api_route("/_test/chatty", chatty)


@pytest.mark.usefixtures("logging_route")
async def test_every_line_of_a_request_carries_its_request_id(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    await client.get("/_test/chatty", headers={"X-Request-ID": "trace-inner-2"})
    lines = [line for line in _lines(json_log) if str(line["logger"]).startswith("notes_service")]
    assert [line["message"] for line in lines] == ["inside the handler", "GET /_test/chatty 200"]
    assert {line["request_id"] for line in lines} == {"trace-inner-2"}
    # Outside a request there is no id.
    logging.getLogger("notes_service.test").info("between requests")
    assert _lines(json_log)[-1]["request_id"] is None


def test_console_format_is_one_readable_line() -> None:
    handler = make_handler("console")
    record = logging.LogRecord("notes_service.access", logging.INFO, "", 0, "GET /x 200", (), None)
    record.request_id = "rid-1"
    record.route, record.status, record.duration_ms = "/x", 200, 1.5
    line = handler.format(record)
    assert "\n" not in line and not line.startswith("{")
    assert "INFO" in line and "[rid-1]" in line and "GET /x 200" in line
    assert "route=/x status=200 duration_ms=1.5" in line


async def test_docs_page_uses_only_local_assets(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert "/docs/assets/swagger-ui.css" in html
    assert "http://" not in html and "https://" not in html  # nothing from a CDN
    for asset, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "css")):
        served = await client.get(f"/docs/assets/{asset}")
        assert served.status_code == 200
        assert kind in served.headers["content-type"]
        assert len(served.content) > 10_000
    assert (await client.get("/docs/assets/index.j2")).status_code == 404
    assert (await client.get("/docs/assets/..%2Fpyproject.toml")).status_code == 404
    assert (await client.get("/redoc")).status_code == 404
