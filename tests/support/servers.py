"""Real processes for the tests that need them: the service under uvicorn, and external tools.

Every process is started with a deadline and stopped (then killed, if need be) by the test that
started it, so a failing test never leaves a server behind.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from notes_service.platform.settings import PROJECT_DIR
from tests.support.cli import run_cli

# CI sets this so that a missing browser or PgBouncer fails the run instead of skipping.
REQUIRE_TOOLS = os.environ.get("NOTES_TEST_REQUIRE_TOOLS") == "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
        if found:
            return found
    message = f"{' / '.join(names)} is not installed (.ci/run installs it)"
    if REQUIRE_TOOLS:
        pytest.fail(message)
    pytest.skip(message)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Service:
    """`python -m notes_service serve` in a subprocess; stderr goes to a file for inspection."""

    def __init__(self, log_path: Path, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        environment = {
            **os.environ,
            "NOTES_ENV": "test",
            "NOTES_CURSOR_SECRET": "test-cursor-secret-not-for-production",
            "NOTES_LOG_FORMAT": "json",
            **env,
        }
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "notes_service", "serve", "--port", str(self.port), *args],
            cwd=PROJECT_DIR,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30, **kwargs)  # type: ignore[arg-type]

    def client_post(
        self, path: str, body: dict[str, object], headers: dict[str, str]
    ) -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers=headers, timeout=30)

    def answers(self, path: str, status: int = 200) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the service exited ({self.process.returncode}):\n{self.log()}")
        try:
            return self.get(path).status_code == status
        except httpx.TransportError:
            return False

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for(lambda: self.answers("/readyz"), timeout, f"{self.url}/readyz")

    def terminate(self, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


@contextmanager
def service(log_path: Path, env: dict[str, str], *args: str) -> Iterator[Service]:
    server = Service(log_path, env, *args)
    try:
        yield server
    finally:
        server.kill()


def cli_key(database_url: str, owner: str = "ops", **env: str) -> dict[str, str]:
    """Authorization headers for a key made by `notes-service keys create`, as an operator would."""
    result = run_cli("keys", "create", "--owner", owner, database_url=database_url, **env)
    assert result.returncode == 0, result.stderr
    secret = next(
        line.split()[-1] for line in result.stdout.splitlines() if line.startswith("key:")
    )
    return {"Authorization": f"Bearer {secret}"}


async def until(condition: Callable[[], object], seconds: float, what: str) -> None:
    """Poll without blocking the event loop (a request of the test may be running on it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")
