"""Start and stop the two uvicorn servers under test, and the CLI steps that prepare the data."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    """The service as deployed: production settings, a private cursor secret, warnings only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
    return (
        env
        | {
            "NOTES_DATABASE_URL": database_url,
            "NOTES_ENV": "production",
            "NOTES_CURSOR_SECRET": secrets.token_urlsafe(32),
            "NOTES_LOG_LEVEL": "WARNING",
        }
        | {f"NOTES_{name.upper()}": value for name, value in extra.items()}
    )


def cli(args: list[str], env: Mapping[str, str]) -> str:
    done = subprocess.run(  # noqa: S603
        [str(BIN / "notes-service"), *args], cwd=ROOT, env=dict(env), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"notes-service {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
    return done.stdout


def create_key(env: Mapping[str, str], owner: str) -> str:
    for line in cli(["keys", "create", "--owner", owner], env).splitlines():
        if line.startswith("key:"):
            return line.removeprefix("key:").strip()
    raise RuntimeError("`notes-service keys create` printed no `key:` line")


@dataclass
class Server:
    name: str
    app: str
    port: int
    env: dict[str, str]
    log: Path
    factory: bool = False
    workers: int = 1
    # Run as deployed (`notes-service serve`) instead of `uvicorn <app>`.
    serve_command: bool = False
    # Serve from another source tree (benchmarks/ab.py), with this venv's packages.
    tree: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, ready_path: str, timeout: float = 60.0) -> None:
        where = ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        cwd, env = ROOT, self.env
        if self.tree is not None:
            command = [sys.executable, "-m", "notes_service", "serve", *where]
            cwd, env = self.tree, env | {"PYTHONPATH": str(self.tree)}
        elif self.serve_command:
            # uvicorn with the service's own flags: no access log, log level from the settings.
            command = [str(BIN / "notes-service"), "serve", *where]
        else:
            command = [str(BIN / "uvicorn"), self.app, *where]
            if self.factory:
                command.append("--factory")
            command += ["--log-level", "warning", "--no-access-log"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603
                command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + ready_path, timeout=1).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} was not ready in {timeout:g}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The server runs in its own session: signal its group, which holds only what it spawned.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
