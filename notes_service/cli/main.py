from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TypeVar

from notes_service.cli import args as cli_args
from notes_service.cli import db as cli_db
from notes_service.cli import transfer as cli_transfer
from notes_service.platform.embedded import EmbeddedPostgresError
from notes_service.platform.logs import configure_logging
from notes_service.platform.settings import Settings, SettingsError, load_settings

logger = logging.getLogger("notes_service")
T = TypeVar("T")
_parser = cli_args.parser  # the commands and flags live in cli_args


@contextmanager
def _database(settings: Settings, *, migrate_embedded: bool = True) -> Iterator[Settings]:
    """Yield settings with a database URL. With none set, lease the embedded PostgreSQL: start
    it or share the one running, and stop it when the last process using it is done."""
    if settings.database_url:
        logger.info("using database %s", _masked(settings.database_url))
        yield settings
        return
    from notes_service.platform.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(settings.embedded_dir, settings.embedded_port)

    def migrate_it() -> None:
        # Zero setup: the embedded database is always migrated (except for `db aerich`, which
        # is how migrations are made and tried). With a URL set, migrating is the operator's
        # step (`notes-service migrate`).
        applied = asyncio.run(migrate(settings.model_copy(update={"database_url": server.url})))
        if applied:
            logger.info("migrations applied: %s", ", ".join(applied))

    with server.lease(migrate_it if migrate_embedded else None):
        logger.info("using embedded PostgreSQL at %s (data in %s)", server.url, server.data_dir)
        # Exported so that uvicorn workers and aerich, which read settings afresh, find it.
        os.environ["NOTES_DATABASE_URL"] = server.url
        yield settings.model_copy(update={"database_url": server.url})


def _masked(url: str) -> str:
    from notes_service.platform.urls import mask_url

    return mask_url(url)


async def migrate(settings: Settings) -> list[str]:
    from aerich import Command

    from notes_service.platform.db import MIGRATIONS_DIR, tortoise_config

    config = tortoise_config(settings.for_long_jobs())
    async with Command(config, location=str(MIGRATIONS_DIR)) as command:
        await command.init()
        return await command.upgrade()


async def _with_orm(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    from tortoise import Tortoise

    from notes_service.platform.db import tortoise_config
    from notes_service.platform.urls import where

    await Tortoise.init(config=tortoise_config(settings.for_long_jobs()))
    logger.info("connected to %s", where(settings.write_url))
    try:
        return await work()
    finally:
        await Tortoise.close_connections()
        logger.info("disconnected from %s", where(settings.write_url))


def _time(value: datetime | None) -> str:
    """A time as the API writes it (RFC 3339 in UTC, `Z`), or `-`."""
    if value is None:
        return "-"
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from notes_service.accounts import auth
    from notes_service.accounts.scopes import ALL_SCOPES

    if args.keys_command == "create":
        scopes = args.scopes or ALL_SCOPES
        expires_at = datetime.now(UTC) + args.expires_in if args.expires_in else None
        key = asyncio.run(
            _with_orm(
                settings,
                lambda: auth.create_key(
                    args.owner, args.label, scopes=scopes, expires_at=expires_at
                ),
            )
        )
        print(f"key id: {key.id}")
        print(f"key:    {key.secret}")
        print(f"scopes: {' '.join(key.scopes)}")
        if expires_at is not None:
            print(f"expires: {_time(expires_at.replace(microsecond=0))}")
        print("Store the key now: it is not shown again.", file=sys.stderr)
        return 0
    if args.keys_command == "list":
        keys = asyncio.run(_with_orm(settings, lambda: auth.owner_keys(args.owner)))
        if keys is None:
            return _fail(f"no owner named {args.owner!r}")
        for k in keys:
            print(f"{k.id}  label={k.label or '-'}  created={_time(k.created_at)}  "
                  f"revoked={_time(k.revoked_at)}  scopes={','.join(k.scopes)}  "
                  f"expires={_time(k.expires_at)}  last_used={_time(k.last_used_at)}")  # fmt: skip
        return 0
    if not asyncio.run(_with_orm(settings, lambda: auth.revoke_key(args.key_id))):
        print(f"no active key with id {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}")
    return 0


def _fail(message: str) -> int:
    print(f"notes-service: {message}", file=sys.stderr)
    return 1


def _import(args: argparse.Namespace, settings: Settings) -> int:
    if args.file == "-":
        # The file is read twice (checked whole, then imported in chunks): a pipe is spooled
        # to a temporary file first, so memory stays flat whatever its size.
        with tempfile.NamedTemporaryFile("wb", suffix=".ndjson") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
            spool.flush()
            return _import_path(Path(spool.name), args, settings)
    path = Path(args.file)
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "no such file"
        return _fail(f"cannot read {args.file}: {reason}")
    return _import_path(path, args, settings)


def _import_path(path: Path, args: argparse.Namespace, settings: Settings) -> int:
    return cli_transfer.run_import(settings.for_long_jobs(), args.owner, path, args.on_conflict)


def _purge_trash(args: argparse.Namespace, settings: Settings) -> int:
    from notes_service.notes import service

    notes, keys = asyncio.run(
        _with_orm(settings, lambda: service.purge(args.older_than, settings.idempotency_ttl))
    )
    print(f"purged {notes} notes from the trash")
    print(f"removed {keys} expired idempotency keys")
    return 0


def _wait_for_database(settings: Settings) -> bool:
    """Retry an unreachable database for NOTES_DB_CONNECT_TIMEOUT; on failure print one line."""
    from notes_service.platform.startup import DatabaseUnreachable, wait_for_database

    try:
        asyncio.run(wait_for_database(settings))
    except DatabaseUnreachable as exc:
        print(f"notes-service: {exc}", file=sys.stderr)
        return False
    return True


def _exit_after_shutdown(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    # A SystemExit unwinds through `_database()`, which releases the embedded server.
    raise SystemExit(128 + signum)


def _sighup_as_sigterm(signum: int, frame: FrameType | None) -> None:
    # Closing the terminal: shut down as on SIGTERM (uvicorn's graceful path, or, before
    # uvicorn runs, `_exit_after_shutdown`), so the embedded server is stopped too.
    signal.raise_signal(signal.SIGTERM)


def _worker(settings: Settings) -> int:
    """Webhook deliveries without the HTTP service, until SIGTERM, SIGINT or SIGHUP; the round
    under way finishes first."""
    from notes_service.platform.logs import configure_logging
    from notes_service.webhooks.worker import WebhookWorker

    if not _wait_for_database(settings):
        return 1
    configure_logging(settings)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(signum, stop.set)
        worker = WebhookWorker(settings)
        worker.start()
        logger.info("webhook worker started")
        await stop.wait()
        await worker.stop()
        logger.info("webhook worker stopped")

    asyncio.run(_with_orm(settings, run))
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from notes_service.web.metrics import share_across_workers

    if not _wait_for_database(settings):
        return 1
    # After a graceful shutdown uvicorn re-raises the signal it caught. Ending with a plain exit
    # status 0 instead lets `_database()` stop an embedded server on the way out.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_after_shutdown)
    # uvicorn handles SIGINT and SIGTERM only; with --workers its supervisor takes SIGHUP over
    # (it restarts the workers), so this covers the single-process server.
    signal.signal(signal.SIGHUP, _sighup_as_sigterm)
    share_across_workers(args.workers)  # one /metrics for all workers
    # --reload: uvicorn's supervisor runs the server in a child process and starts a new one
    # when the package's code changes; the embedded server (this process's) stays up.
    package = Path(__file__).resolve().parents[1]
    uvicorn.run(
        "notes_service.web.app:asgi_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        reload_dirs=[str(package)] if args.reload else None,
        log_level=settings.log_level.lower(),
        log_config=None,  # logging is ours (notes_service.platform.logs), in every worker
        access_log=False,  # replaced by the notes_service.access line
        timeout_graceful_shutdown=30,
        timeout_keep_alive=settings.keep_alive_timeout,
        # NOTES_LIMIT_CONCURRENCY is the request middleware's (a problem+json 503), not
        # uvicorn's plain-text one.
        server_header=False,  # no "server: uvicorn" banner for scanners
    )
    return 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from notes_service.cli.check import run_check

    report = asyncio.run(run_check(settings, args.workers))
    print("\n".join(report.lines))
    return 1 if report.problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve" and args.reload and args.workers > 1:
        parser.error("serve: --reload runs one worker; leave out --workers")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"notes-service: {exc}", file=sys.stderr)
        return 2
    if args.command != "serve" and not args.verbose:
        # A command's output is its result; INFO lines (Tortoise's among them) are for -v.
        settings = settings.model_copy(update={"log_level": "WARNING"})
    configure_logging(settings)
    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, _exit_on_signal)
    try:
        return _run(args, settings)
    except EmbeddedPostgresError as exc:
        return _fail(str(exc))
    except (TimeoutError, OSError) as exc:
        # Typically the database went away mid-command: one line, not a traceback.
        logger.debug("command failed", exc_info=exc)
        return _fail(f"{type(exc).__name__}: {exc}")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "db":
        return cli_db.run(args, settings, _database)
    with _database(settings) as settings:
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "check":
            return _check(args, settings)
        if args.command == "worker":
            return _worker(settings)
        if args.command == "migrate":
            if not _wait_for_database(settings):
                return 1
            applied = asyncio.run(migrate(settings))
            print("applied: " + (", ".join(applied) or "nothing, the schema is current"))
            return 0
        if args.command == "keys":
            return _keys(args, settings)
        if args.command == "export":
            return cli_transfer.run_export(settings.for_long_jobs(), args.owner, args.revisions)
        if args.command == "import":
            return _import(args, settings)
        if args.command == "purge-trash":
            return _purge_trash(args, settings)
    raise AssertionError(args.command)
