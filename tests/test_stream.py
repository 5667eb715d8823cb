"""GET /v1/changes/stream under a real uvicorn: the feed's guarantees, pushed."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.cli import run_cli
from tests.support.databases import kill_listeners, listener_pids
from tests.support.metrics import gauge, gauge_is
from tests.support.pages import read_feed
from tests.support.servers import Service, cli_key, service, until
from tests.support.sse import Event, Events, open_stream, raw_stream, read_to_end, stream_client

# Every test here runs while another database on the server keeps a write transaction open.
pytestmark = pytest.mark.usefixtures("unrelated_transaction")

STREAM_ENV = {
    "NOTES_STREAM_BUFFER_BYTES": "4096",
    "NOTES_STREAM_SEND_TIMEOUT": "1",
    "NOTES_STREAM_POLL_INTERVAL": "1",
    "NOTES_STREAM_MAX": "250",
    "NOTES_STREAM_MAX_PER_KEY": "50",
}


@pytest.fixture(scope="module")
def svc(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    log = tmp_path_factory.mktemp("stream") / "service.log"
    with service(log, {"NOTES_DATABASE_URL": database_url, **STREAM_ENV}) as server:
        server.wait_ready()
        yield server


@pytest.fixture
async def client(svc: Service) -> Any:
    async with stream_client(svc.url, connections=260) as client:
        yield client


async def create(client: httpx.AsyncClient, headers: dict[str, str], title: str) -> str:
    response = await client.post("/v1/notes", json={"title": title}, headers=headers)
    assert response.status_code == 201, response.text
    note_id: str = response.json()["id"]
    return note_id


def titles(events: list[Event]) -> list[str]:
    return [e.json()["note"]["title"] for e in events]


async def test_a_change_arrives_within_a_second_and_matches_the_feed(
    svc: Service, client: httpx.AsyncClient, database_url: str
) -> None:
    alice, bob = cli_key(database_url, "s-alice"), cli_key(database_url, "s-bob")
    await create(client, alice, "before")
    async with open_stream(client, alice) as events:
        caught_up = await events.next(10)
        assert caught_up.event == "change" and caught_up.json()["note"]["title"] == "before"
        await create(client, bob, "not alice's")
        await create(client, alice, "live")
        live = await events.next(1.0)  # the commit happened before `create` returned
        assert live.json()["note"]["title"] == "live"
    changes, cursor = await read_feed(client, alice)
    assert [caught_up.json(), live.json()] == changes  # the same entries as the feed's
    assert (await read_feed(client, alice, live.id))[0] == []  # an event id is a feed cursor
    assert cursor  # (and the feed's own cursor resumes the stream; see the reconnect test)


async def test_reconnecting_with_last_event_id_has_no_gap_and_no_repeat(
    client: httpx.AsyncClient, database_url: str
) -> None:
    alice = cli_key(database_url, "r-alice")
    for i in range(5):
        await create(client, alice, f"n{i}")
    _, early = await read_feed(client, alice)  # a stale cursor in the query: the header wins
    async with open_stream(client, alice) as events:
        first = await events.take(3, 10)
    for i in range(5, 8):
        await create(client, alice, f"n{i}")
    headers = alice | {"Last-Event-ID": first[-1].id}
    async with open_stream(client, headers, cursor=early) as events:
        rest = await events.take(5, 10)
        await create(client, alice, "end")  # the next event is this one: nothing repeated
        assert titles([await events.next(5)]) == ["end"]
    assert titles(first + rest) == [f"n{i}" for i in range(8)]


async def test_a_change_is_pushed_once_committed_whatever_is_still_open(
    client: httpx.AsyncClient, database_url: str
) -> None:
    alice = cli_key(database_url, "ab-alice")
    first, second = await create(client, alice, "first"), await create(client, alice, "second")
    async with open_stream(client, alice) as events:
        await events.take(2, 10)
        conn_a, conn_b = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
        try:
            tx_a, tx_b = conn_a.transaction(), conn_b.transaction()
            await tx_a.start()
            update = "UPDATE notes SET title = $2, version = version + 1 WHERE id = $1"
            await conn_a.execute(update, first, "by A")  # A writes first ...
            await tx_b.start()
            await conn_b.execute(update, second, "by B")
            await tx_b.commit()  # ... but B commits first: pushed now, A holds nothing back.
            assert titles(await events.take(1, 5)) == ["by B"]
            await tx_a.commit()
        finally:
            await conn_a.close()
            await conn_b.close()
        assert titles(await events.take(1, 5)) == ["by A"]


async def test_a_killed_listener_loses_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    alice = cli_key(database_url, "k-alice")
    async with open_stream(client, alice) as events:
        await create(client, alice, "n0")
        await events.take(1, 10)
        killed = await kill_listeners(database_url)
        assert killed
        for i in range(1, 4):  # while it is down or reconnecting: the slow poll finds them
            await create(client, alice, f"n{i}")
        got = await events.take(3, 15)

        async def reconnected() -> bool:
            return bool(set(await listener_pids(database_url)) - set(killed))

        await until(reconnected, 15, "the listener to reconnect")
        for i in range(4, 6):
            await create(client, alice, f"n{i}")
        got += await events.take(2, 5)
        await create(client, alice, "end")  # the next event is this one: nothing repeated
        assert titles([await events.next(5)]) == ["end"]
    assert titles(got) == [f"n{i}" for i in range(1, 6)]


async def test_a_revoked_keys_stream_is_closed(
    client: httpx.AsyncClient, database_url: str
) -> None:
    alice = cli_key(database_url, "rev-alice")
    other = cli_key(database_url, "rev-alice")
    async with open_stream(client, alice) as revoked, open_stream(client, other) as kept:
        listed = run_cli("keys", "list", "--owner", "rev-alice", database_url=database_url)
        key_id = listed.stdout.split()[0]  # the first key: `alice`'s
        assert run_cli("keys", "revoke", key_id, database_url=database_url).returncode == 0
        await asyncio.wait_for(revoked.ended.wait(), 5)
        await create(client, other, "still flowing")
        assert (await kept.next(5)).json()["note"]["title"] == "still flowing"
        assert not kept.ended.is_set()
    response = await client.get("/v1/changes/stream", headers=alice)
    assert response.status_code == 401


async def test_200_idle_streams_hold_no_connection_and_almost_no_cpu(
    svc: Service, client: httpx.AsyncClient, database_url: str
) -> None:
    owners = [cli_key(database_url, f"idle-{i}") for i in range(4)]
    streams: list[Events] = []
    contexts = []
    # The process's own idle cost (uvicorn's tick, pool housekeeping) is not the streams'.
    baseline = await _cpu_over(svc.process.pid, 10)
    try:
        for i in range(200):
            context = open_stream(client, owners[i % 4])
            streams.append(await context.__aenter__())
            contexts.append(context)
        await until(lambda: gauge_is(client, "sse_streams_open", 200), 30, "200 open streams")
        # Two changes each owner's streams hear one after the other: every stream is then past
        # its opening reads and its first, timed wait, and waits for announcements alone.
        for round_ in range(2):
            for i, owner in enumerate(owners):
                await create(client, owner, f"warm-{round_}-{i}")
            heard = [await s.next(10) for s in streams]
            assert all(e.json()["note"]["title"].startswith(f"warm-{round_}-") for e in heard)

        async def pools_idle() -> bool:
            in_use = [
                await gauge(client, "db_pool_connections_in_use", pool=pool)
                for pool in ("read", "write")
            ]
            return in_use == [0, 0]

        await until(pools_idle, 10, "no pool connection in use by the idle streams")
        used = await _cpu_over(svc.process.pid, 10)
        assert used - baseline < 0.1, f"10 s idle: {used:.2f} CPU s, {baseline:.2f} s without"
        # ... and they are alive: one change wakes exactly its owner's 50 streams.
        await create(client, owners[0], "wake")
        woken = [await s.next(10) for s in streams[::4]]
        assert all(e.json()["note"]["title"] == "wake" for e in woken)
        assert all(s.queue.empty() for i, s in enumerate(streams) if i % 4)
    finally:
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)
    await until(lambda: gauge_is(client, "sse_streams_open", 0), 30, "the streams to close")


async def _cpu_over(pid: int, seconds: float) -> float:
    """CPU seconds the process consumed (user + system) over `seconds` of wall time."""
    before = _cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return _cpu_seconds(pid) - before


def _cpu_seconds(pid: int) -> float:
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def test_a_stalled_reader_is_cut_off_and_others_keep_flowing(
    svc: Service, client: httpx.AsyncClient, database_url: str
) -> None:
    alice = cli_key(database_url, "slow-alice")
    stalled = raw_stream(svc.port, alice)
    try:
        async with open_stream(client, alice) as reader:
            # ~10 MB of events: more than the socket buffers and the 4-event queue hold.
            body = "x" * 99_000
            for batch in range(10):
                notes = [{"title": f"n{batch * 9 + i}", "body": body} for i in range(9)]
                response = await client.post(
                    "/v1/notes/batch", json={"notes": notes}, headers=alice
                )
                assert response.status_code == 201, response.text
            flowing = await reader.take(90, 60)  # the other stream gets everything
            assert titles(flowing) == [f"n{i}" for i in range(90)]
            await until(lambda: "reader fell behind" in svc.log(), 30, "the cut-off")
        events = await asyncio.to_thread(read_to_end, stalled)
    finally:
        stalled.close()
    *changes, final = events
    assert final.event == "resume"
    assert final.json() == {"reason": "slow-reader", "resume_after": changes[-1].id}
    assert 0 < len(changes) < 90 and all(e.event == "change" for e in changes)
    rest, _ = await read_feed(client, alice, final.id)  # resuming from it: no gap, no repeat
    assert titles(changes) + [c["note"]["title"] for c in rest] == [f"n{i}" for i in range(90)]


async def test_streams_are_capped_per_worker_and_end_cleanly_on_sigterm(
    database_url: str, tmp_path: Path
) -> None:
    alice = cli_key(database_url, "cap-alice")
    env = {"NOTES_DATABASE_URL": database_url, "NOTES_STREAM_MAX": "2"}
    with service(tmp_path / "service.log", env) as capped:
        capped.wait_ready()
        async with (
            stream_client(capped.url) as client,
            open_stream(client, alice) as first,
            open_stream(client, alice) as second,
        ):
            refused = await client.get("/v1/changes/stream", headers=alice)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "5"
            assert refused.json()["type"] == "urn:notes-service:problem:unavailable"
            await create(client, alice, "before shutdown")
            assert (await first.next(5)).json()["note"]["title"] == "before shutdown"
            assert (await second.next(5)).json()["note"]["title"] == "before shutdown"

            capped.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(first.ended.wait(), 20)
            await asyncio.wait_for(second.ended.wait(), 20)
        returncode = await asyncio.to_thread(capped.process.wait, 25)
    assert returncode == 0
    log = capped.log()
    assert "timeout graceful shutdown exceeded" not in log
    assert "change stream: closed (shutdown)" in log
    assert "stopped: write and read pools closed" in log


def test_the_openapi_entry_documents_the_event_format(svc: Service) -> None:
    spec = svc.get("/openapi.json").json()
    assert "paths" in spec, spec
    operation = spec["paths"]["/v1/changes/stream"]["get"]
    content = operation["responses"]["200"]["content"]
    assert list(content) == ["text/event-stream"]
    # Before OpenAPI 3.2 the schema of an event stream describes each event (SPEC §8).
    event = content["text/event-stream"]
    assert event["example"]["event"] == "change"
    assert set(event["schema"]["properties"]) == {"id", "event", "retry", "data"}
    for words in ("Last-Event-ID", "`id:` the cursor after this change", "event: resume"):
        assert words in operation["description"]
    assert "503" in operation["responses"]
    assert {p["name"] for p in operation["parameters"]} >= {"cursor", "last-event-id"}


async def test_a_bad_or_foreign_last_event_id_is_a_400(
    client: httpx.AsyncClient, database_url: str
) -> None:
    alice, bob = cli_key(database_url, "bad-alice"), cli_key(database_url, "bad-bob")
    _, bobs_cursor = await read_feed(client, bob)
    for value in ("not-a-cursor", bobs_cursor):
        for headers, params in ((alice | {"Last-Event-ID": value}, {}), (alice, {"cursor": value})):
            response = await client.get("/v1/changes/stream", headers=headers, params=params)
            assert response.status_code == 400, response.text
            assert response.json()["type"] == "urn:notes-service:problem:invalid-cursor"
    assert (await client.get("/v1/changes/stream")).status_code == 401


async def test_only_owners_with_an_open_stream_are_announced(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """NOTIFY serialises commits, so a write is announced only while its owner has a stream."""
    alice, bob = cli_key(database_url, "ann-alice"), cli_key(database_url, "ann-bob")
    heard: list[str] = []
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT name, id FROM owners WHERE name LIKE 'ann-%'")
        ids: dict[str, int] = {row["name"]: row["id"] for row in rows}
        await conn.add_listener("notes_changes", lambda *args: heard.append(args[-1]))
        registered = "SELECT count(*) FROM live_owners WHERE owner_id = $1"
        async with open_stream(client, alice) as events:
            assert await conn.fetchval(registered, ids["ann-alice"]) == 1
            await create(client, bob, "unheard")
            await create(client, alice, "heard")
            assert titles([await events.next(5)]) == ["heard"]
            # Notifications arrive in commit order: bob's would have come before alice's.
            await until(lambda: heard, 5, "alice's notification")
            assert heard == [str(ids["ann-alice"])]

        async def unregistered() -> bool:
            return bool(await conn.fetchval(registered, ids["ann-alice"]) == 0)

        await until(unregistered, 5, "the closed stream's owner to be unregistered")

        # A registration left by a listener that died is cleared when a listener connects.
        await conn.execute("INSERT INTO live_owners VALUES ($1, 0)", ids["ann-bob"])
        killed = await kill_listeners(database_url)

        async def cleared() -> bool:
            reconnected = set(await listener_pids(database_url)) - set(killed)
            return bool(reconnected) and not await conn.fetchval(registered, ids["ann-bob"])

        await until(cleared, 15, "a new listener to clear the dead registration")
    finally:
        await conn.close()
