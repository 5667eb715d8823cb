"""Webhook deliveries, fed by the change feed (SPEC §12, docs/webhooks.md).

Two loops per worker process, both safe to run in any number of processes and replicas:
- dispatch: for each enabled webhook whose owner's feed moved past the webhook's position
  (tick, seq), enqueue one delivery per change the webhook wants and move the position, in one
  transaction (the webhook row held FOR UPDATE SKIP LOCKED, so no two workers enqueue the same
  change). A change is enqueued once; the feed keeps only a note's newest change, so a note
  changed twice between two rounds is delivered once, with its newest state.
- deliver: lease due deliveries (FOR UPDATE SKIP LOCKED, the oldest pending one per note only,
  so a note's changes arrive in feed order), POST each signed (Standard Webhooks), and record
  the outcome: delivered, retried after the next of NOTES_WEBHOOK_RETRY_DELAYS, or failed; a
  webhook with NOTES_WEBHOOK_DISABLE_AFTER failed deliveries in a row is disabled.
A worker that stops mid-attempt leaves the delivery leased: another attempts it when the lease
ends. So every change is delivered at least once, through restarts and receiver outages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
from standardwebhooks.webhooks import Webhook as Signer

from notes_service.platform.settings import Settings
from notes_service.webhooks import sql
from notes_service.webhooks.service import EVENT_OF_OP
from notes_service.webhooks.targets import TargetRefused, check_target

logger = logging.getLogger(__name__)

TIMEOUT = 5.0  # a 2xx within this is a success (SPEC §12)
LEASE = 2 * TIMEOUT  # seconds a claimed delivery waits before another worker may attempt it
MAX_RESPONSE_BYTES = 64 * 1024  # read of a receiver's answer, then the connection is dropped
WEBHOOKS_PER_ROUND = 20
FEED_BATCH = 200
DELIVERIES_PER_ROUND = 50


async def dispatch_once(conn: asyncpg.Connection[Any]) -> int:
    """Enqueue the feed's new changes for every webhook that has some; how many."""
    enqueued = 0
    async with conn.transaction():
        for hook in await conn.fetch(sql.CLAIM_WEBHOOKS, WEBHOOKS_PER_ROUND):
            wanted = set(orjson.loads(hook["events"]))
            tick, seq = hook["feed_tick"], hook["feed_seq"]
            rows = await conn.fetch(sql.FEED_AFTER, hook["owner_id"], tick, seq, FEED_BATCH)
            batch: tuple[list[str], list[str], list[uuid.UUID], list[str]] = ([], [], [], [])
            stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            for row in rows:
                event = EVENT_OF_OP[row["op"]]
                if event in wanted:
                    body = f'{{"type":"{event}","timestamp":"{stamp}","data":{row["entry"]}}}'
                    batch[0].append(f"msg_{uuid.uuid4().hex}")
                    batch[1].append(event)
                    batch[2].append(row["change_id"])
                    batch[3].append(body)
                tick, seq = row["tick"], row["seq"]
            if batch[0]:
                await conn.execute(sql.ENQUEUE, hook["id"], *batch)
                enqueued += len(batch[0])
            await conn.execute(sql.ADVANCE, hook["id"], tick, seq)
    return enqueued


class Deliverer:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.delays = settings.webhook_delays
        self.disable_after = settings.webhook_disable_after
        self.allow_private = settings.webhook_allow_private_targets
        # httpx's own timeouts bound each phase (connect included: a target that drops SYNs);
        # asyncio.timeout around the attempt bounds the whole of it.
        self.client = client or httpx.AsyncClient(
            follow_redirects=False, trust_env=False, timeout=httpx.Timeout(TIMEOUT)
        )

    async def deliver_once(self, conn: asyncpg.Connection[Any]) -> int:
        """Attempt every due delivery (up to a batch) at once, then record the outcomes; how many
        were attempted."""
        rows = await conn.fetch(sql.CLAIM_DUE, DELIVERIES_PER_ROUND, LEASE)
        statuses = await asyncio.gather(
            *(self._post(r["url"], r["secret"], r["event_id"], r["payload"]) for r in rows)
        )
        await self._record(conn, rows, statuses)
        return len(rows)

    async def _record(
        self, conn: asyncpg.Connection[Any], rows: list[asyncpg.Record], statuses: list[int | None]
    ) -> None:
        """The round's outcomes in one transaction: delivered, retried later, or failed."""
        delivered: tuple[list[int], list[int]] = ([], [])
        retried: tuple[list[int], list[int | None], list[float]] = ([], [], [])
        failed: list[tuple[asyncpg.Record, int | None]] = []
        for row, status in zip(rows, statuses, strict=True):
            if status is not None and 200 <= status < 300:
                delivered[0].append(row["id"])
                delivered[1].append(status)
            elif row["attempts"] < len(self.delays):
                retried[0].append(row["id"])
                retried[1].append(status)
                retried[2].append(self.delays[row["attempts"]])
            else:
                failed.append((row, status))
        async with conn.transaction():
            if delivered[0]:
                await conn.execute(sql.DELIVERED, *delivered)
                ok = set(delivered[0])
                hooks = list({r["webhook_id"] for r in rows if r["id"] in ok})
                await conn.execute(sql.RESET_FAILURES, hooks)
            if retried[0]:
                await conn.execute(sql.RETRY, *retried)
            for row, status in failed:
                await conn.execute(sql.FAILED, row["id"], status)
                await conn.execute(sql.COUNT_FAILURE, row["webhook_id"], self.disable_after)

    async def _post(self, url: str, secret: str, event_id: str, body: str) -> int | None:
        """The receiver's status, or None when there was no answer (refused target, timeout,
        connection error). Redirects are not followed: a 3xx is a failure."""
        try:
            await check_target(url, allow_private=self.allow_private)
        except TargetRefused as exc:
            logger.warning("webhook target refused at delivery: %s", exc)
            return None
        now = datetime.now(UTC)
        data = body.encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Signer(secret).sign(event_id, now, data),
            "user-agent": "notes-service-webhooks",
        }
        try:
            async with asyncio.timeout(TIMEOUT):
                request = self.client.build_request("POST", url, content=data, headers=headers)
                response = await self.client.send(request, stream=True)
                try:
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= MAX_RESPONSE_BYTES:
                            break
                finally:
                    await response.aclose()
                return response.status_code
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            logger.info("webhook delivery %s to %s failed: %s", event_id, url, type(exc).__name__)
            return None

    async def aclose(self) -> None:
        await self.client.aclose()


class WebhookWorker:
    """Both loops, every NOTES_WEBHOOK_POLL_INTERVAL seconds (at once again while busy), on a
    connection of their own to the write URL: they never take a pool connection from requests.
    Stopping lets the round under way finish (an attempt takes at most TIMEOUT), so no
    transaction is cut off midway; a round cut off anyway (a crash) is retried by the lease."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.write_url
        self.statement_cache_size = settings.db_statement_cache_size
        self.interval = settings.webhook_poll_interval
        self._conn: asyncpg.Connection[Any] | None = None
        self.deliverer = Deliverer(settings)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-worker")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), TIMEOUT + 2)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self.deliverer.aclose()
        if self._conn is not None:
            await self._conn.close(timeout=5)

    async def _connection(self) -> asyncpg.Connection[Any]:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self.url,
                timeout=10,
                statement_cache_size=self.statement_cache_size,
                server_settings={"application_name": "notes-service-webhooks"},
            )
        return self._conn

    async def run_forever(self) -> None:
        self.start()
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            busy = False
            try:
                conn = await self._connection()
                busy = await dispatch_once(conn) > 0
                busy = await self.deliverer.deliver_once(conn) > 0 or busy
            except Exception:
                if self._conn is not None and not self._conn.is_closed():
                    self._conn.terminate()  # a fresh connection next round
                self._conn = None
                if not failing:
                    logger.warning("webhook worker: round failed; retrying", exc_info=True)
                failing = True
            else:
                failing = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.interval)
