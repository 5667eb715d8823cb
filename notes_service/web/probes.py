"""Probes and metrics: what a load balancer and Prometheus ask the service."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response
from tortoise import connections

from notes_service.errors import ServiceUnavailable, Unauthorized
from notes_service.platform import sql
from notes_service.platform.db import newest_migration
from notes_service.platform.startup import describe

logger = logging.getLogger(__name__)

router = APIRouter(tags=["ops"])


class NotReady(ServiceUnavailable):
    slug, title = "not-ready", "Service not ready"

    def __init__(self, checks: dict[str, str], failed_checks: list[str]) -> None:
        failed = ", ".join(failed_checks)
        super().__init__(f"Readiness checks failed: {failed}")
        self.extra = {"checks": checks}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up; deliberately does not touch the database."""
    return {"status": "ok"}


async def _write_pool() -> str:
    await connections.get("default").execute_query(sql.PING)
    return "ok"


async def _migrations() -> str:
    _, rows = await connections.get("default").execute_query(sql.APPLIED_HEAD)
    applied = rows[0]["version"] if rows else None
    newest = newest_migration()
    if applied != newest:
        return f"behind: database at {applied or 'nothing'}, newest migration is {newest}"
    return "ok"


async def _check(name: str, probe: Callable[[], Awaitable[str]], seconds: float) -> str:
    try:
        async with asyncio.timeout(seconds):
            return await probe()
    except Exception as exc:
        # The cause goes to the log only: driver messages never reach a client.
        logger.warning("readiness check %s failed: %s", name, describe(exc))
        return "failed"


LISTENER_DEGRADED = (
    "degraded: the LISTEN connection (NOTES_LISTEN_DATABASE_URL, default the write URL) is "
    "down{cause}. Requests are served; the key cache is off (every request looks its key up), "
    "change streams poll every NOTES_STREAM_POLL_INTERVAL seconds and check their keys every "
    "half second; it reconnects by itself"
)


def listener_check(request: Request) -> str:
    """Not a failure: the service answers correctly without it, only at a higher cost."""
    listener = request.app.state.streams.listener
    if listener.up:
        return "ok"
    cause = f" ({listener.last_error})" if listener.last_error else ""
    return LISTENER_DEGRADED.format(cause=cause)


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, object]:
    """Both pools answer and the schema is at the newest migration; the listener is reported
    (degraded, not down, when it cannot connect)."""
    read_db = request.app.state.read_db
    timeout = request.app.state.settings.db_acquire_timeout

    async def read_pool() -> str:
        await read_db.fetch_one(sql.PING, {})
        return "ok"

    probes = {"write_pool": _write_pool, "read_pool": read_pool, "migrations": _migrations}
    results = await asyncio.gather(*(_check(n, p, timeout) for n, p in probes.items()))
    checks = dict(zip(probes, results, strict=True))
    failed = [name for name, result in checks.items() if result != "ok"]
    checks["listener"] = listener_check(request)
    if failed:
        raise NotReady(checks, failed)
    status = "ready" if checks["listener"] == "ok" else "degraded"
    return {"status": status, "checks": checks}


def _require_metrics_token(request: Request) -> None:
    token = request.app.state.settings.metrics_token
    if token is None:
        return
    sent = request.headers.get("authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Unauthorized("GET /metrics needs the NOTES_METRICS_TOKEN bearer token")


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    _require_metrics_token(request)
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
