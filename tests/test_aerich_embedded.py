"""The model-change loop on the zero-setup path: `notes-service db aerich ...` with no database
URL, on the embedded PostgreSQL. It runs in a scratch copy of the project, so the real models and
migrations are never touched."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from notes_service.platform.embedded import EmbeddedPostgres
from notes_service.platform.settings import PROJECT_DIR
from tests.support.servers import free_port

_FIELD = "    name = fields.CharField(max_length=100, unique=True)\n"
_NEW_FIELD = "    nickname = fields.CharField(max_length=40, null=True)\n"


@pytest.fixture
def project_copy() -> Iterator[Path]:
    # Outside pytest's basetemp, which a concurrent pytest run resets to mode 0700 (postgres
    # runs as another user and must reach its data folder).
    scratch = Path(tempfile.mkdtemp(prefix="notes-first-hour-aerich-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("notes_service", "migrations"):
        shutil.copytree(PROJECT_DIR / name, scratch / name, ignore=ignore)
    shutil.copy(PROJECT_DIR / "pyproject.toml", scratch / "pyproject.toml")
    yield scratch
    EmbeddedPostgres(scratch / "pgdata", 0).stop()
    shutil.rmtree(scratch, ignore_errors=True)


def _columns(url: str) -> set[str]:
    async def read() -> set[str]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'owners'"
            )
        finally:
            await conn.close()
        return {row["column_name"] for row in rows}

    return asyncio.run(read())


def test_db_aerich_runs_the_model_change_loop_on_the_embedded_server(
    project_copy: Path,
) -> None:
    real_migrations = sorted(p.name for p in (PROJECT_DIR / "migrations" / "models").iterdir())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
    env |= {"NOTES_EMBEDDED_DIR": str(project_copy / "pgdata"), "NOTES_EMBEDDED_PORT": str(port)}

    def aerich(*args: str) -> str:
        # cwd is the copy: `python -m notes_service` and aerich import the copy's package.
        result = subprocess.run(
            [sys.executable, "-m", "notes_service", "db", "aerich", *args],
            cwd=project_copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        return result.stdout

    aerich("upgrade")
    models = project_copy / "notes_service" / "accounts" / "models.py"  # Owner
    source = models.read_text()
    assert _FIELD in source
    models.write_text(source.replace(_FIELD, _FIELD + _NEW_FIELD, 1))

    aerich("migrate", "--name", "first_hour_nickname", "--no-input")
    made = [p for p in (project_copy / "migrations" / "models").iterdir() if "nickname" in p.name]
    assert len(made) == 1
    assert '"nickname" VARCHAR(40)' in made[0].read_text()

    server = EmbeddedPostgres(project_copy / "pgdata", port)
    with server.lease():  # keeps it up between the commands, so the test can look inside
        aerich("upgrade")
        assert "nickname" in _columns(server.url)
        aerich("downgrade", "--yes")
        assert "nickname" not in _columns(server.url)
        assert "name" in _columns(server.url)
    assert not server.is_running()  # each `db aerich` released it; the last user stopped it

    after = sorted(p.name for p in (PROJECT_DIR / "migrations" / "models").iterdir())
    assert after == real_migrations
