"""`notes-service check`: the configuration (secrets masked), whether the databases answer, the
migration state, and whether the connection budget fits the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg

from notes_service.platform import sql
from notes_service.platform.db import newest_migration
from notes_service.platform.settings import Settings, format_duration
from notes_service.platform.startup import describe
from notes_service.platform.urls import mask_url, server_of, where

_SECRET_WORDS = ("password", "secret", "token", "key")


def masked_settings(settings: Settings) -> list[str]:
    lines = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, str) and value.startswith(("postgresql://", "postgres://")):
            value = mask_url(value)
        elif any(word in name for word in _SECRET_WORDS) and value:
            value = "***"
        elif isinstance(value, timedelta):
            value = format_duration(value)  # as NOTES_IDEMPOTENCY_TTL is written
        lines.append(f"  NOTES_{name.upper()}={'' if value is None else value}")
    return lines


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def fail(self, line: str, problem: str) -> None:
        self.lines.append(line)
        self.problems.append(problem)


def _server_label(url: str) -> str:
    host, port = server_of(url)
    return f"server {host}:{port}"


async def _budget(conn: asyncpg.Connection, demand: int, label: str, report: Report) -> None:
    max_connections = int(await conn.fetchval(sql.MAX_CONNECTIONS))
    superuser = int(await conn.fetchval(sql.SUPERUSER_RESERVED_CONNECTIONS))
    reserved = int(await conn.fetchval(sql.RESERVED_CONNECTIONS) or 0)
    available = max_connections - superuser - reserved
    line = (
        f"  {label}: {demand} connections needed, {available} available "
        f"(max_connections {max_connections} - superuser_reserved_connections {superuser}"
        f" - reserved_connections {reserved})"
    )
    if demand > available:
        report.fail(line + ": OVER BUDGET", f"connection budget exceeded on {label}")
    else:
        report.lines.append(line + ": ok")


def _webhooks(settings: Settings) -> int:
    return 1 if settings.webhook_deliveries_in_serve else 0


async def run_check(settings: Settings, workers: int) -> Report:
    report = Report(["configuration:", *masked_settings(settings), "database:"])
    # Pool demand per server: the read pool may live on a replica with its own budget.
    demand: dict[tuple[str, int], tuple[str, int]] = {}
    for url, pool_max in (
        (settings.write_url, settings.db_pool_max),
        (settings.read_url, settings.read_db_pool_max),
        (settings.listen_url, 1),  # each worker's LISTEN connection
        (settings.write_url, _webhooks(settings)),  # each worker's webhook deliveries
    ):
        label, total = demand.get(server_of(url), (url, 0))
        demand[server_of(url)] = (label, total + workers * pool_max)
    conns: dict[str, asyncpg.Connection] = {}
    try:
        for role, url in (("write", settings.write_url), ("read", settings.read_url)):
            try:
                conn = await asyncpg.connect(
                    url,
                    timeout=settings.db_acquire_timeout,
                    statement_cache_size=settings.db_statement_cache_size,
                )
            except Exception as exc:
                report.fail(f"  {role} {where(url)}: UNREACHABLE ({describe(exc)})", role)
                continue
            conns[url] = conn
            version = await conn.fetchval(sql.SERVER_VERSION)
            report.lines.append(f"  {role} {where(url)}: reachable (PostgreSQL {version})")

        report.lines.append("migrations:")
        newest = newest_migration()
        write = conns.get(settings.write_url)
        if write is None:
            report.fail("  unknown: the write database is unreachable", "migrations unknown")
        else:
            try:
                applied = await write.fetchval(sql.APPLIED_HEAD)
            except asyncpg.UndefinedTableError:
                applied = None
            state = f"  applied {applied or 'nothing'}, newest file {newest}"
            if applied == newest:
                report.lines.append(state + ": current")
            else:
                report.fail(state + ": PENDING (run `notes-service migrate`)", "migrations")

        report.lines.append(
            f"connection budget ({workers} worker(s) x (write {settings.db_pool_max}"
            f" + read {settings.read_db_pool_max} + listen 1 + webhooks {_webhooks(settings)})):"
        )
        for label, total in demand.values():
            server = conns.get(label)
            if server is None:
                report.fail(f"  {_server_label(label)}: unknown (unreachable)", "budget unknown")
            else:
                await _budget(server, total, _server_label(label), report)
    finally:
        for conn in conns.values():
            await conn.close()
    if report.problems:
        report.lines.append("result: FAILED: " + "; ".join(report.problems))
    else:
        report.lines.append("result: ok")
    return report
