"""The embedded PostgreSQL shared safely: concurrent starters, SIGHUP, orphans, `db status|stop`.

Every test has a data folder and port of its own, and stops its server whatever happens.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from notes_service.platform.embedded import EmbeddedPostgres
from notes_service.platform.settings import PROJECT_DIR
from tests.support.servers import free_port, wait_for


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder outside pytest's basetemp: a concurrent pytest run resets that to mode 0700,
    which locks out the `pgserver` user postgres runs as (and so `pg_ctl stop`)."""
    path = Path(tempfile.mkdtemp(prefix="notes-first-hour-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def embedded(scratch: Path) -> Iterator[tuple[EmbeddedPostgres, dict[str, str]]]:
    server = EmbeddedPostgres(scratch / "pgdata", free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
    env |= {
        "NOTES_EMBEDDED_DIR": str(server.data_dir),
        "NOTES_EMBEDDED_PORT": str(server.port),
        "NOTES_LOG_FORMAT": "console",
    }
    yield server, env
    server.stop()


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "notes_service", *args],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as `make serve` in a terminal
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def _secret(stdout: str) -> str:
    return stdout.split("key:", 1)[1].split()[0]


def _up(base: str, process: subprocess.Popen[str]) -> bool:
    assert process.poll() is None, process.communicate()
    try:
        return httpx.get(f"{base}/readyz").status_code == 200
    except httpx.TransportError:
        return False


def _postmaster_alive(pid: int | None) -> bool:
    """A live process (not a zombie waiting to be reaped by init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_concurrent_starters_share_one_server_and_sighup_stops_it(
    embedded: tuple[EmbeddedPostgres, dict[str, str]],
) -> None:
    """`make serve &` and a pasted `keys create` at the same moment: one server, both work;
    then closing the terminal (SIGHUP to serve's process group) leaves no postgres behind."""
    server, env = embedded
    port = free_port()
    serve = _cli("serve", "--port", str(port), env=env)
    keys = [_cli("keys", "create", "--owner", f"starter{i}", env=env) for i in range(2)]
    try:
        results = [_finish(k) for k in keys]
        for code, _, err in results:
            assert code == 0, err
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _up(base, serve), 90, "serve to be ready")
        postmaster = server.pid()
        assert _postmaster_alive(postmaster)
        for _, out, _ in results:  # the keys were written to the server serve uses
            auth = {"Authorization": f"Bearer {_secret(out)}"}
            created = httpx.post(f"{base}/v1/notes", json={"title": "shared"}, headers=auth)
            assert created.status_code == 201
        os.killpg(serve.pid, signal.SIGHUP)
        code, _, err = _finish(serve)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.communicate(timeout=10)
    assert code == 0, err
    assert "did not start" not in err
    assert not server.is_running()
    wait_for(lambda: not _postmaster_alive(postmaster), 30, "the postmaster to exit")


def test_an_orphaned_server_is_adopted_and_stopped(
    embedded: tuple[EmbeddedPostgres, dict[str, str]],
) -> None:
    server, env = embedded
    server.start()  # as if its notes-service had been killed: running, no one using it
    status = _finish(_cli("db", "status", env=env))
    assert status[0] == 0
    assert "running on 127.0.0.1" in status[1] and "orphaned" in status[1]
    code, _, err = _finish(_cli("-v", "keys", "create", "--owner", "adopter", env=env))
    assert code == 0, err
    assert "adopting the embedded PostgreSQL" in err
    assert not server.is_running()
    assert _finish(_cli("db", "status", env=env))[0] == 3


def test_db_stop_refuses_while_in_use_and_the_last_user_stops_it(
    embedded: tuple[EmbeddedPostgres, dict[str, str]],
) -> None:
    server, env = embedded
    other = EmbeddedPostgres(server.data_dir, server.port)  # a second process, in effect
    with server.lease() as started:
        assert started
        with other.lease() as started_again:
            assert not started_again  # shared, not started twice
        assert server.is_running()  # the other user left; this one still holds it
        status = _finish(_cli("db", "status", env=env))
        assert "in use by a notes-service process" in status[1]
        code, _, err = _finish(_cli("db", "stop", env=env))
        assert code == 1
        assert err.count("\n") == 1 and "in use" in err
        assert server.is_running()
    assert not server.is_running()  # the last user stopped it
    server.start()
    code, out, _ = _finish(_cli("db", "stop", env=env))
    assert code == 0 and "stopped" in out
    assert not server.is_running()
