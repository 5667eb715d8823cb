"""PostgreSQL's own ceiling for each measured path: the exact statements one request runs, replayed
by pgbench with the same binds.

`capture` serves one request per path in this process (the real app, production settings, the
bench database) with a query logger on every asyncpg connection, so the statements are whatever
the code runs today, whichever module builds them. `pgbench_script` turns them into a pgbench
transaction (`$n` binds become pgbench variables, passed as text with `-D`, and run with
`-M prepared` as asyncpg's statement cache does, or `-M extended` where the service has a
statement planned for its values every time); `run_pgbench` runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

# The text in a bind that stands for the id of the note a POST creates: pgbench swaps in a
# fresh uuid per transaction, or the second one would break the primary key.
NEW_ID = "NOTEID"
_BIND = re.compile(r"\$(\d+)")


@dataclass(frozen=True, slots=True)
class Statement:
    query: str
    args: tuple[Any, ...]
    # Run through `prepare()` for one execution (search): planned for its values every time.
    planned: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    json: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Ceiling:
    tps: float
    latency_ms: float
    clients: int
    statements: int  # statements per transaction, as the service runs them


@contextmanager
def _logging_queries(into: list[Statement]) -> Iterator[None]:
    """Every asyncpg connection opened meanwhile logs its statements into `into`."""
    original = asyncpg.connection.Connection.__init__

    def init(self: asyncpg.Connection, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.add_query_logger(lambda q: into.append(Statement(q.query, tuple(q.args))))

    # Statements prepared explicitly bypass the query logger: log their executions here.
    prepared = asyncpg.prepared_stmt.PreparedStatement
    original_fetchrow = prepared.fetchrow

    async def fetchrow(self: Any, *args: Any, **options: Any) -> Any:
        into.append(Statement(self.get_query(), tuple(args), planned=True))
        return await original_fetchrow(self, *args, **options)

    asyncpg.connection.Connection.__init__ = init  # type: ignore[method-assign,assignment]
    prepared.fetchrow = fetchrow  # type: ignore[method-assign]
    try:
        yield
    finally:
        asyncpg.connection.Connection.__init__ = original  # type: ignore[method-assign]
        prepared.fetchrow = original_fetchrow  # type: ignore[method-assign]


async def capture(
    env: dict[str, str], key: str, requests: dict[str, Request]
) -> dict[str, tuple[list[Statement], str | None]]:
    """name -> (the statements one request runs, the id of the note it created, if any)."""
    from notes_service.platform.settings import Settings
    from notes_service.web.app import create_app

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = Settings(_env_file=None)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    log: list[Statement] = []
    found: dict[str, tuple[list[Statement], str | None]] = {}
    with _logging_queries(log):
        app = create_app(settings)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            auth = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for name, request in requests.items():
                    # The first request warms the key cache and asyncpg's type introspection.
                    for _warm_then_measure in range(2):
                        log.clear()
                        answer = await client.request(
                            request.method, request.path, json=request.json, headers=auth
                        )
                        answer.raise_for_status()
                    created = answer.json().get("id") if request.method == "POST" else None
                    found[name] = (list(log), created)
    return found


def _text(value: Any) -> str:
    """A bind as PostgreSQL's text input reads it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        items = []
        for item in value:
            if item is None:
                items.append("NULL")
            else:
                text = _text(item).replace("\\", "\\\\").replace('"', '\\"')
                items.append(f'"{text}"')
        return "{" + ",".join(items) + "}"
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return str(value)


def pgbench_script(
    statements: Sequence[Statement], created: str | None, folder: Path, name: str
) -> tuple[Path, list[str]]:
    """The pgbench script for one request's statements, and its options: `-M prepared` as
    asyncpg's statement cache runs them, or `-M extended` (planned on every execution) when the
    service plans one of them per execution."""
    lines: list[str] = []
    mode = "extended" if any(statement.planned for statement in statements) else "prepared"
    options: list[str] = ["-M", mode]
    fresh: list[str] = []
    for k, statement in enumerate(statements):
        query = statement.query.strip().rstrip(";")
        for n, value in enumerate(statement.args, start=1):
            var = f"p{k}_{n}"
            if value is None:
                # pgbench cannot bind NULL: the literal, typed by the surrounding cast.
                query = re.sub(rf"\${n}(?!\d)", "NULL", query)
                continue
            text = _text(value)
            if created is not None and created in text:
                options += ["-D", f"t{k}_{n}={text.replace(created, NEW_ID)}"]
                fresh.append(f"replace(:t{k}_{n}, '{NEW_ID}', fresh.id) AS {var}")
            else:
                options += ["-D", f"{var}={text}"]
        query = _BIND.sub(f":p{k}_\\1", query)
        lines.append(query + ";")
    if fresh:
        # One extra round trip per transaction: a new note id for every bind that holds it.
        binds = ", ".join(fresh)
        source = "FROM (SELECT CAST(gen_random_uuid() AS text) AS id) AS fresh \\gset"
        lines.insert(0, f"SELECT {binds} {source}")
    script = folder / f"pgbench_{name}.sql"
    script.write_text("\n".join(lines) + "\n")
    return script, options


def run_pgbench(
    url: str,
    script: Path,
    options: list[str],
    *,
    seconds: float,
    clients: int,
    statements: int,
) -> Ceiling:
    command = [
        "pgbench", "-n", "-c", str(clients), "-j", str(min(2, clients)),
        "-T", str(max(1, round(seconds))), "-f", str(script), *options, url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"pgbench {script.name} failed:\n{done.stderr}{done.stdout}")
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    if tps is None or latency is None:
        raise RuntimeError(f"pgbench {script.name}: no tps in\n{done.stdout}")
    if failed is not None and int(failed.group(1)) > 0:
        raise RuntimeError(f"pgbench {script.name}: failed transactions\n{done.stdout}")
    return Ceiling(float(tps.group(1)), float(latency.group(1)), clients, statements)
