"""The zero-setup path, as a person on a fresh machine uses it: no database URL at all."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from notes_service.platform.embedded import EmbeddedPostgres
from notes_service.platform.settings import PROJECT_DIR
from tests.support.cli import cli
from tests.support.servers import free_port


@pytest.fixture
def embedded_env() -> Iterator[dict[str, str]]:
    # Outside pytest's basetemp: a concurrent pytest run resets that to mode 0700, which locks
    # out the `pgserver` user postgres runs as (and so `pg_ctl stop`).
    scratch = Path(tempfile.mkdtemp(prefix="notes-cli-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
    env |= {
        "NOTES_EMBEDDED_DIR": str(scratch / "pgdata"),
        "NOTES_EMBEDDED_PORT": str(free_port()),
    }
    yield env
    EmbeddedPostgres(scratch / "pgdata", int(env["NOTES_EMBEDDED_PORT"])).stop()
    shutil.rmtree(scratch, ignore_errors=True)


def test_serve_with_no_url_runs_on_the_embedded_database(embedded_env: dict[str, str]) -> None:
    created = cli("keys", "create", "--owner", "dora", env=embedded_env)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.split("key:", 1)[1].split()[0]
    data_dir = Path(embedded_env["NOTES_EMBEDDED_DIR"])
    assert not EmbeddedPostgres(data_dir, 0).is_running()  # keys create stopped what it started

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "notes_service", "serve", "--port", str(port)],
        cwd=PROJECT_DIR,
        env=embedded_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {secret}"}
        created_note = httpx.post(f"{base}/v1/notes", json={"title": "hi"}, headers=headers)
        assert created_note.status_code == 201
        listed = httpx.get(f"{base}/v1/notes", headers=headers).json()
        assert [n["title"] for n in listed["items"]] == ["hi"]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "using embedded PostgreSQL" in output
    assert not EmbeddedPostgres(data_dir, 0).is_running()
    # A clean SIGTERM is no loss: no warning; the service's own lines say what started and
    # stopped (not Tortoise's "shutdown" at start-up), the embedded server's stop included.
    assert "WARNING" not in output and "connection lost" not in output, output
    assert "Tortoise-ORM" not in output, output
    assert "listener: stopped" in output, output
    assert output.index("stopped: write and read pools closed") < output.index(
        "embedded PostgreSQL stopped"
    ), output


def test_embedded_port_in_use_is_one_clear_line(embedded_env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        embedded_env["NOTES_EMBEDDED_PORT"] = str(busy.getsockname()[1])
        result = cli("migrate", env=embedded_env)
    assert result.returncode == 1
    assert "is in use; set NOTES_EMBEDDED_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_reload_restarts_on_a_code_change_and_stops_cleanly(
    embedded_env: dict[str, str],
) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "notes_service", "serve", "--reload", "--port", str(port)],
        cwd=PROJECT_DIR,
        env={**embedded_env, "NOTES_LOG_FORMAT": "console"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # A new module in the package is a code change (uvicorn watches *.py); removed afterwards.
    probe = PROJECT_DIR / "notes_service" / f"_reload_probe_{os.getpid()}.py"
    lines: list[str] = []
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 90
        starts = 0
        for line in server.stdout:
            lines.append(line)
            if "Application startup complete" in line:
                starts += 1
                if starts == 1:
                    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
                    probe.write_text("# written by tests/test_cli.py\n")
                else:
                    break
            assert time.monotonic() < deadline, "".join(lines)
        assert starts == 2, "".join(lines)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        probe.unlink(missing_ok=True)
        server.terminate()
        rest, _ = server.communicate(timeout=30)
    output = "".join(lines) + rest
    assert server.returncode == 0, output
    # uvicorn warns of the change it reloads for; nothing else warns.
    warnings = [line for line in output.splitlines() if "WARNING" in line]
    assert all("WatchFiles detected changes" in line for line in warnings), output
    assert "embedded PostgreSQL stopped" in output, output
    assert not EmbeddedPostgres(Path(embedded_env["NOTES_EMBEDDED_DIR"]), 0).is_running()


def test_serve_reload_runs_one_worker(embedded_env: dict[str, str]) -> None:
    result = cli("serve", "--reload", "--workers", "2", env=embedded_env)
    assert result.returncode == 2
    assert "--reload runs one worker" in result.stderr
