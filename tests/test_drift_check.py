"""`make drift-check` works on the zero-setup path too: with no NOTES_DRIFT_SERVER_URL it makes
its scratch database on the embedded PostgreSQL, and stops the server it started."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from notes_service.platform.db import MIGRATIONS_DIR
from notes_service.platform.embedded import EmbeddedPostgres
from notes_service.platform.settings import PROJECT_DIR
from tests.support.servers import free_port


def test_drift_check_runs_on_the_embedded_default() -> None:
    # Outside pytest's basetemp, which a concurrent pytest run makes unreadable to `pgserver`.
    scratch = Path(tempfile.mkdtemp(prefix="notes-drift-"))
    server = EmbeddedPostgres(scratch / "pgdata", free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
    env |= {"NOTES_EMBEDDED_DIR": str(server.data_dir), "NOTES_EMBEDDED_PORT": str(server.port)}
    before = sorted((MIGRATIONS_DIR / "models").iterdir())
    try:
        result = subprocess.run(
            [sys.executable, ".ci/drift_check.py"],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == "no migration drift"
        assert not server.is_running()  # it started the server, so it stopped it
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    assert sorted((MIGRATIONS_DIR / "models").iterdir()) == before  # wrote no file
