"""A private PgBouncer in transaction mode, in front of the test PostgreSQL."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.support.servers import free_port, require_binary, wait_for

# PgBouncer refuses to run as root; these accounts exist where PostgreSQL is installed.
_RUN_AS = ("postgres", "pgserver", "nobody")


def _account() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in _RUN_AS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("no unprivileged account to run PgBouncer as")


def _reachable(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def pgbouncer(server_url: str) -> Iterator[str]:
    """Yield `server_url` rewritten to go through a new PgBouncer (transaction pooling)."""
    binary = require_binary("pgbouncer")
    server = urlsplit(server_url)
    user = server.username or "postgres"
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="notes-pgbouncer-"))
    account = _account()
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={server.hostname} port={server.port or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 10
ignore_startup_parameters = extra_float_digits
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""
    )
    command = [binary, "-d", str(folder / "pgbouncer.ini")]
    if account is not None:
        for path in (folder, *folder.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
        command[1:1] = ["-u", account.pw_name]
    subprocess.run(command, check=True, timeout=30, capture_output=True)
    try:
        wait_for(lambda: _reachable(port), 20, "PgBouncer to listen")
        netloc = f"{user}@127.0.0.1:{port}"
        yield urlunsplit(server._replace(netloc=netloc))
    finally:
        pid_file = folder / "pgbouncer.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            os.kill(pid, 15)
            wait_for(lambda: not Path(f"/proc/{pid}").exists(), 20, "PgBouncer to stop")
        shutil.rmtree(folder, ignore_errors=True)
