"""Webhooks (SPEC §12): subscriptions, signed deliveries fed by the change feed, retries,
the delivery log, disabling, and the refused targets. Receivers listen on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from notes_service.accounts import auth
from notes_service.platform.settings import PROJECT_DIR, Settings
from notes_service.webhooks.targets import TargetRefused, check_target
from notes_service.webhooks.worker import WebhookWorker
from tests.support.factories import api_key, sql
from tests.support.pages import items
from tests.support.receiver import receiver
from tests.support.servers import free_port, service, until
from tests.support.settings import WEBHOOK_RETRY_DELAYS


@pytest.fixture
async def run_worker(settings: Settings) -> AsyncIterator[Any]:
    """Start a delivery worker (as `serve` or `notes-service worker` runs one)."""
    started: list[WebhookWorker] = []

    def start(**changes: Any) -> WebhookWorker:
        worker = WebhookWorker(settings.model_copy(update=changes))
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        await worker.stop()


async def _subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post("/v1/webhooks", headers=headers, json={"url": url} | fields)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def _deliveries(
    client: httpx.AsyncClient, headers: dict[str, str], webhook_id: str
) -> list[dict[str, Any]]:
    return await items(client, f"/v1/webhooks/{webhook_id}/deliveries", headers, {"limit": 100})


async def test_webhooks_over_http(client: httpx.AsyncClient) -> None:
    headers = await api_key("alice")
    made = await _subscribe(client, headers, "http://127.0.0.1:9/hook")
    assert made["secret"].startswith("whsec_") and made["enabled"] is True
    assert made["events"] == ["note.created", "note.updated", "note.deleted"]
    listed = (await client.get("/v1/webhooks", headers=headers)).json()
    assert [w["id"] for w in listed] == [made["id"]]
    assert made["secret"] not in str(listed)
    page = await client.get(f"/v1/webhooks/{made['id']}/deliveries", headers=headers)
    assert page.json() == {"items": [], "next_cursor": None}

    bob = await api_key("bob")
    assert (
        await client.get(f"/v1/webhooks/{made['id']}/deliveries", headers=bob)
    ).status_code == 404
    assert (await client.delete(f"/v1/webhooks/{made['id']}", headers=bob)).status_code == 404
    assert (await client.delete(f"/v1/webhooks/{made['id']}", headers=headers)).status_code == 204
    assert (await client.delete(f"/v1/webhooks/{made['id']}", headers=headers)).status_code == 404
    assert (await client.get("/v1/webhooks", headers=headers)).json() == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"url": "ftp://127.0.0.1/x"},
        {"url": "http:///nohost"},
        {"url": "http://user:pw@127.0.0.1/x"},
        {"url": "http://127.0.0.1/x", "events": ["note.moved"]},
        {"url": "http://127.0.0.1/x", "events": []},
        {"url": "http://127.0.0.1/" + "x" * 2050},
    ],
)
async def test_bad_webhook_requests_get_422(client: httpx.AsyncClient, payload: Any) -> None:
    response = await client.post("/v1/webhooks", headers=await api_key("alice"), json=payload)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await sql("SELECT 1 FROM webhooks") == []


async def test_deliveries_are_signed_feed_entries(
    client: httpx.AsyncClient, run_worker: Any
) -> None:
    headers = await api_key("alice")
    with receiver() as hook:
        made = await _subscribe(client, headers, hook.url)
        run_worker()
        note = (await client.post("/v1/notes", headers=headers, json={"title": "a"})).json()
        await until(lambda: len(hook.accepted()) == 1, 10, "the create to be delivered")
        await client.patch(f"/v1/notes/{note['id']}", headers=headers, json={"title": "b"})
        await until(lambda: len(hook.accepted()) == 2, 10, "the update to be delivered")
        first, second = (r.verified(made["secret"]) for r in hook.accepted())
        await until(lambda: _state(made["id"], "delivered"), 10, "the outcomes to be recorded")
    assert first["type"] == "note.created" and second["type"] == "note.updated"
    assert first["data"] == {"id": note["id"], "version": 1, "op": "create", "note": note}
    assert second["data"]["version"] == 2 and second["data"]["note"]["title"] == "b"
    assert isinstance(first["timestamp"], str)
    received = hook.accepted()[0]
    assert received.headers["webhook-id"].startswith("msg_")
    assert received.headers["webhook-signature"].startswith("v1,")
    log = await _deliveries(client, headers, made["id"])
    assert [d["type"] for d in log] == ["note.updated", "note.created"]  # newest first
    assert all(d["state"] == "delivered" and d["attempts"] == 1 for d in log)
    assert all(d["last_status"] == 204 and d["delivered_at"] for d in log)
    assert log[1]["event_id"] == received.headers["webhook-id"]


async def test_event_filters(client: httpx.AsyncClient, run_worker: Any) -> None:
    headers = await api_key("alice")
    with receiver() as hook:
        await _subscribe(client, headers, hook.url, events=["note.deleted"])
        run_worker()
        note = (await client.post("/v1/notes", headers=headers, json={"title": "a"})).json()
        await client.delete(f"/v1/notes/{note['id']}", headers=headers)
        await until(lambda: len(hook.accepted()) == 1, 10, "the deletion to be delivered")
    assert [b["type"] for b in hook.bodies()] == ["note.deleted"]
    assert hook.bodies()[0]["data"]["op"] == "trash"


async def test_a_receiver_down_for_10_s_gets_every_delivery(
    client: httpx.AsyncClient, run_worker: Any
) -> None:
    """100 notes change while the receiver is down (connection refused) for 10 s; then every
    change arrives, each signature valid, as the retries (0.5, 1, 2, 4, 8 s) come round."""
    assert WEBHOOK_RETRY_DELAYS == "0.5,1,2,4,8"
    headers = await api_key("alice")
    port = free_port()
    made = await _subscribe(client, headers, f"http://127.0.0.1:{port}/hook")
    run_worker()
    batch = {"notes": [{"title": f"note {i}"} for i in range(100)]}
    response = await client.post("/v1/notes/batch", headers=headers, json=batch)
    ids = {n["id"] for n in response.json()["items"]}
    await until(lambda: _all_attempted(made["id"], 100), 10, "every delivery to have failed once")
    await asyncio.sleep(10)  # the outage itself
    with receiver(port) as hook:
        await until(lambda: len(hook.accepted()) >= 100, 30, "every delivery after the outage")
        payloads = [r.verified(made["secret"]) for r in hook.accepted()]
        await until(lambda: _state(made["id"], "delivered"), 10, "the outcomes to be recorded")
    assert {p["data"]["id"] for p in payloads} == ids
    log = await _deliveries(client, headers, made["id"])
    assert len(log) == 100 and all(d["state"] == "delivered" and d["attempts"] > 1 for d in log)


async def _all_attempted(webhook_id: str, n: int) -> bool:
    rows = await sql(
        "SELECT count(*) AS c FROM webhook_deliveries WHERE webhook_id = $1 AND attempts > 0",
        webhook_id,
    )
    return int(rows[0]["c"]) == n


async def test_failed_deliveries_disable_the_webhook(
    client: httpx.AsyncClient, run_worker: Any
) -> None:
    headers = await api_key("alice")
    with receiver(answer=lambda n: 500) as hook:
        made = await _subscribe(client, headers, hook.url)
        run_worker(webhook_retry_delays="0,0", webhook_disable_after=2)
        for title in ("a", "b"):
            await client.post("/v1/notes", headers=headers, json={"title": title})
        await until(lambda: _disabled(client, headers), 10, "the webhook to be disabled")
        tried = len(hook.received)
    assert tried == 6  # two deliveries, three attempts each
    log = await _deliveries(client, headers, made["id"])
    assert [(d["state"], d["attempts"], d["last_status"]) for d in log] == [("failed", 3, 500)] * 2
    assert all(d["next_attempt_at"] is None and d["delivered_at"] is None for d in log)


async def _disabled(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    listed = (await client.get("/v1/webhooks", headers=headers)).json()
    return listed[0]["enabled"] is False


async def test_redirects_are_not_followed(client: httpx.AsyncClient, run_worker: Any) -> None:
    headers = await api_key("alice")
    with receiver(answer=lambda n: 302) as hook:
        made = await _subscribe(client, headers, hook.url)
        run_worker(webhook_retry_delays="")
        await client.post("/v1/notes", headers=headers, json={"title": "a"})
        await until(lambda: _state(made["id"], "failed"), 10, "the delivery to fail")
    assert len(hook.received) == 1  # the Location (127.0.0.1:1) was never asked
    log = await _deliveries(client, headers, made["id"])
    assert log[0]["last_status"] == 302 and log[0]["state"] == "failed"


async def _state(webhook_id: str, state: str) -> bool:
    rows = await sql("SELECT state FROM webhook_deliveries WHERE webhook_id = $1", webhook_id)
    return bool(rows) and all(r["state"] == state for r in rows)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:8080/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://192.168.1.10/hook",
        "http://172.16.0.1/hook",
        "http://100.64.0.1/hook",
        "http://[fd00:ec2::254]/hook",
    ],
)
async def test_private_targets_are_refused(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    url: str,
) -> None:
    with pytest.raises(TargetRefused):
        await check_target(url, allow_private=False)
    # The app as deployed: private targets refused.
    app.state.settings = settings.model_copy(update={"webhook_allow_private_targets": False})
    try:
        headers = await api_key("alice")
        response = await client.post("/v1/webhooks", headers=headers, json={"url": url})
    finally:
        app.state.settings = settings
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "url"]
    assert await sql("SELECT 1 FROM webhooks") == []


async def test_a_public_address_is_allowed() -> None:
    await check_target("https://93.184.215.14/hook", allow_private=False)  # no traffic sent


async def test_targets_are_checked_again_at_delivery(
    client: httpx.AsyncClient, run_worker: Any
) -> None:
    """A webhook whose name resolves to loopback when it is delivered (here `localhost`,
    allowed when it was made) is not sent to by a worker that refuses private targets."""
    headers = await api_key("alice")
    with receiver() as hook:
        made = await _subscribe(client, headers, f"http://localhost:{hook.port}/hook")
        run_worker(webhook_allow_private_targets=False, webhook_retry_delays="")
        await client.post("/v1/notes", headers=headers, json={"title": "a"})
        await until(lambda: _state(made["id"], "failed"), 10, "the delivery to be refused")
    assert hook.received == []
    log = await _deliveries(client, headers, made["id"])
    assert log[0]["last_status"] is None and log[0]["attempts"] == 1


async def test_a_restart_in_the_middle_of_retries_loses_nothing(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    """`serve` delivers (its default): the receiver fails the first 12 attempts; the service is
    killed (SIGKILL) while deliveries wait for their retries, and a new one finishes them."""
    key = await auth.create_key("alice")
    headers = {"Authorization": f"Bearer {key.secret}"}
    env = {
        "NOTES_DATABASE_URL": database_url,
        "NOTES_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "NOTES_WEBHOOK_RETRY_DELAYS": "0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5",
        "NOTES_WEBHOOK_POLL_INTERVAL": "0.05",
    }
    with receiver(answer=lambda n: 503 if n < 12 else 204) as hook:
        made = await _subscribe(client, headers, hook.url)
        with service(tmp_path / "first.log", env) as first:
            await asyncio.to_thread(first.wait_ready)
            for i in range(5):
                response = await asyncio.to_thread(
                    first.client_post, "/v1/notes", {"title": f"n{i}"}, headers
                )
                assert response.status_code == 201
            await until(lambda: len(hook.received) >= 6, 20, "retries to be under way")
            first.kill()
        assert len(hook.accepted()) < 5
        with service(tmp_path / "second.log", env) as second:
            await asyncio.to_thread(second.wait_ready)
            await until(
                lambda: (
                    len({r.verified(made["secret"])["data"]["id"] for r in hook.accepted()}) == 5
                ),
                40,
                "every note delivered after the restart",
            )
            second.terminate()
    log = await _deliveries(client, headers, made["id"])
    assert len(log) == 5 and all(d["state"] == "delivered" for d in log)


async def test_the_worker_command_delivers(client: httpx.AsyncClient, database_url: str) -> None:
    """`notes-service worker`: deliveries apart from `serve`, stopped cleanly by SIGTERM."""
    headers = await api_key("alice")
    env = {
        **os.environ,
        "NOTES_ENV": "test",
        "NOTES_CURSOR_SECRET": "test-cursor-secret-not-for-production",
        "NOTES_DATABASE_URL": database_url,
        "NOTES_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    }
    with receiver() as hook:
        made = await _subscribe(client, headers, hook.url)
        await client.post("/v1/notes", headers=headers, json={"title": "a"})
        worker = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "notes_service", "worker"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            await until(lambda: len(hook.accepted()) == 1, 30, "the worker to deliver")
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.to_thread(worker.communicate, timeout=30)
    assert worker.returncode == 0, stderr
    assert hook.accepted()[0].verified(made["secret"])["type"] == "note.created"


@pytest.mark.parametrize("delays", ["5,x", "-1", "5,,999999999", "ten"])
def test_bad_retry_delays_are_refused(delays: str) -> None:
    with pytest.raises(ValueError, match=r"delay|seconds"):
        Settings(_env_file=None, webhook_retry_delays=delays)


def test_retry_delays_are_read_in_order() -> None:
    settings = Settings(_env_file=None, webhook_retry_delays=" 5, 30 ,0.5")
    assert settings.webhook_delays == [5.0, 30.0, 0.5]
    assert Settings(_env_file=None, webhook_retry_delays="").webhook_delays == []
    assert sum(Settings(_env_file=None).webhook_delays) >= 86400  # the default spans a day
