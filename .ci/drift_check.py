"""Fails when the Tortoise models and the committed aerich migrations disagree: on a scratch
database migrated to head, `aerich migrate` must have nothing to write.

The scratch database goes on NOTES_DRIFT_SERVER_URL when it is set (CI: the system PostgreSQL),
else on the embedded PostgreSQL of `make serve` (started for the check, or shared with the one
running). Run as `make drift-check`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from notes_service.platform.db import MIGRATIONS_DIR
from notes_service.platform.embedded import EmbeddedPostgres
from notes_service.platform.settings import PROJECT_DIR, Settings


@contextmanager
def _server() -> Iterator[str]:
    url = os.environ.get("NOTES_DRIFT_SERVER_URL")
    if url:
        yield url
        return
    settings = Settings()
    server = EmbeddedPostgres(settings.embedded_dir, settings.embedded_port)
    with server.lease():
        yield server.url


async def _execute(server: str, statement: str) -> None:
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _aerich(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter's aerich, fixed arguments
        [sys.executable, "-m", "aerich", *args],
        cwd=PROJECT_DIR,
        env={**os.environ, "NOTES_DATABASE_URL": url},
        capture_output=True,
        text=True,
    )


def main() -> int:
    models = MIGRATIONS_DIR / "models"
    with _server() as server:
        name = f"notes_drift_{os.getpid()}"
        url = f"{server.rsplit('/', 1)[0]}/{name}"
        asyncio.run(_execute(server, f'CREATE DATABASE "{name}"'))
        try:
            upgraded = _aerich(url, "upgrade")
            if upgraded.returncode != 0:
                print(upgraded.stdout + upgraded.stderr, file=sys.stderr)
                return 1
            before = {path.name for path in models.iterdir()}
            _aerich(url, "migrate", "--no-input", "--name", "drift")
            new = sorted({path.name for path in models.iterdir()} - before)
        finally:
            asyncio.run(_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if new:
        print("migration drift: the models changed without a migration; aerich would write:")
        for file in new:
            text = (models / file).read_text()
            print(text[text.find("async def upgrade") : text.find("async def downgrade")])
            (models / file).unlink()
        return 1
    print("no migration drift")
    return 0


if __name__ == "__main__":
    sys.exit(main())
