"""`notes-service db status|stop|aerich`: the embedded PostgreSQL, seen and driven from the CLI."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from notes_service.platform.embedded import EmbeddedPostgres
from notes_service.platform.settings import Settings

NOT_RUNNING = 3  # as `pg_ctl status` says it

DatabaseLease = Callable[..., AbstractContextManager[Settings]]


def add_parser(commands: Any) -> None:
    db = commands.add_parser(
        "db", help="the embedded PostgreSQL: status, stop, or run aerich against it"
    ).add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db.add_parser("status", help="is it running, where, and is a notes-service using it")
    stop = db.add_parser("stop", help="stop it (refused while a notes-service is using it)")
    stop.add_argument(
        "--force", action="store_true", help="stop it even while processes are using it"
    )
    aerich = db.add_parser(
        "aerich",
        help="run aerich with NOTES_DATABASE_URL set (the embedded server started if needed)",
        description="Runs `aerich ARGS...` in the current directory, e.g. "
        "`notes-service db aerich migrate --name what_changed`. With no NOTES_DATABASE_URL, the "
        "embedded PostgreSQL is started for the duration (not migrated first).",
    )
    aerich.add_argument("aerich_args", nargs=argparse.REMAINDER, metavar="ARGS")


def _server(settings: Settings) -> EmbeddedPostgres:
    return EmbeddedPostgres(settings.embedded_dir, settings.embedded_port)


def status(settings: Settings) -> int:
    server = _server(settings)
    if not server.is_running():
        print(f"embedded PostgreSQL: not running (data in {server.data_dir})")
        return NOT_RUNNING
    users = "in use by a notes-service process" if server.in_use() else "not in use (orphaned)"
    print(f"embedded PostgreSQL: running on 127.0.0.1:{server.running_port()}, "
          f"pid {server.pid()}, {users} (data in {server.data_dir})")  # fmt: skip
    return 0


def stop(settings: Settings, force: bool) -> int:
    server = _server(settings)
    if not server.is_running():
        print("embedded PostgreSQL: not running")
        return 0
    if not server.stop_unless_in_use(force):
        print(
            "notes-service: the embedded PostgreSQL is in use by a running notes-service "
            "process; stop that first (or use --force)",
            file=sys.stderr,
        )
        return 1
    print("embedded PostgreSQL: stopped")
    return 0


def aerich(settings: Settings, args: list[str], database: DatabaseLease) -> int:
    with database(settings, migrate_embedded=False) as leased:
        env = {**os.environ, "NOTES_DATABASE_URL": leased.database_url or ""}
        # `python -m aerich` of this interpreter: the aerich this project pins.
        command = [sys.executable, "-m", "aerich", *args]
        return subprocess.run(command, env=env, check=False).returncode  # noqa: S603


def run(args: argparse.Namespace, settings: Settings, database: DatabaseLease) -> int:
    if args.db_command == "status":
        return status(settings)
    if args.db_command == "stop":
        return stop(settings, args.force)
    return aerich(settings, args.aerich_args, database)
