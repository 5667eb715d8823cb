"""The real command lines, run as an operator would: `python -m notes_service …` and aerich."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from notes_service.platform.settings import PROJECT_DIR


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m notes_service ...` as an operator would, with exactly `env`."""
    return subprocess.run(
        [sys.executable, "-m", "notes_service", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_cli(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return cli(*args, env={**os.environ, "NOTES_DATABASE_URL": database_url, **env})


def aerich(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """aerich's own command line (not `notes-service db aerich`), on `database_url`."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("aerich")), *args],
        cwd=PROJECT_DIR,
        env={**os.environ, "NOTES_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
