from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TypeVar

from notes_service import cli_transfer
from notes_service.embedded import EmbeddedPostgresError
from notes_service.logs import configure_logging
from notes_service.settings import Settings, SettingsError, load_settings, parse_duration

logger = logging.getLogger("notes_service")
T = TypeVar("T")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notes-service", description="The notes service.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    commands.add_parser("migrate", help="apply pending migrations (aerich upgrade)")

    check = commands.add_parser(
        "check", help="print config, reachability, migration state and connection budget"
    )
    check.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes that will connect: workers per replica x replicas (default 1)",
    )

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="create a key, and its owner if needed")
    create.add_argument("--owner", required=True)
    create.add_argument("--label", default="")
    listing = keys.add_parser("list", help="list an owner's keys (never the secrets)")
    listing.add_argument("--owner", required=True)
    revoke = keys.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id", type=uuid.UUID)

    export = commands.add_parser("export", help="write an owner's notes as NDJSON to stdout")
    export.add_argument("--owner", required=True)
    export.add_argument("--revisions", action="store_true", help="include every revision")
    imports = commands.add_parser("import", help="import NDJSON (the export format) for an owner")
    imports.add_argument("--owner", required=True)
    imports.add_argument("file", type=Path)
    imports.add_argument(
        "--on-conflict", choices=["skip", "overwrite", "fail"], default="fail",
        help="what to do with a line whose id is already one of the owner's notes",
    )  # fmt: skip

    purge = commands.add_parser(
        "purge-trash", help="permanently delete every owner's notes trashed long enough ago"
    )
    purge.add_argument(
        "--older-than",
        type=_duration,
        default="30d",
        metavar="DURATION",
        help="how long a note must have been in the trash, e.g. 30d, 12h (default: 30d)",
    )
    return parser


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@contextmanager
def _database(settings: Settings) -> Iterator[Settings]:
    """Yield settings with a database URL. With none set, start the embedded PostgreSQL (or
    reuse a running one), and stop it afterwards if this command started it."""
    if settings.database_url:
        logger.info("using database %s", _masked(settings.database_url))
        yield settings
        return
    from notes_service.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(settings.embedded_dir, settings.embedded_port)
    started = server.start()
    logger.info("using embedded PostgreSQL at %s (data in %s)", server.url, server.data_dir)
    # Exported so that uvicorn workers, which read settings afresh, find the same server.
    os.environ["NOTES_DATABASE_URL"] = server.url
    settings = settings.model_copy(update={"database_url": server.url})
    try:
        # Zero setup: the embedded database is always migrated. With a URL set, migrating is
        # the operator's step (`notes-service migrate`).
        applied = asyncio.run(migrate(settings))
        if applied:
            logger.info("migrations applied: %s", ", ".join(applied))
        yield settings
    finally:
        if started:
            server.stop()


def _masked(url: str) -> str:
    from notes_service.check import mask_url

    return mask_url(url)


async def migrate(settings: Settings) -> list[str]:
    from aerich import Command

    from notes_service.db import MIGRATIONS_DIR, tortoise_config

    async with Command(tortoise_config(settings), location=str(MIGRATIONS_DIR)) as command:
        await command.init()
        return await command.upgrade()


async def _with_orm(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    from tortoise import Tortoise

    from notes_service.db import tortoise_config

    await Tortoise.init(config=tortoise_config(settings))
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from notes_service import auth

    if args.keys_command == "create":
        key = asyncio.run(_with_orm(settings, lambda: auth.create_key(args.owner, args.label)))
        print(f"key id: {key.id}")
        print(f"key:    {key.secret}")
        print("Store the key now: it is not shown again.", file=sys.stderr)
        return 0
    if args.keys_command == "list":
        keys = asyncio.run(_with_orm(settings, lambda: auth.list_keys(args.owner)))
        for k in keys:
            revoked = k.revoked_at.isoformat() if k.revoked_at else "-"
            print(f"{k.id}  label={k.label or '-'}  created={k.created_at.isoformat()}  "
                  f"revoked={revoked}")  # fmt: skip
        return 0
    if not asyncio.run(_with_orm(settings, lambda: auth.revoke_key(args.key_id))):
        print(f"no active key with id {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}")
    return 0


def _purge_trash(args: argparse.Namespace, settings: Settings) -> int:
    from notes_service.notes import idempotency, trash

    async def purge() -> tuple[int, int]:
        notes = await trash.purge_trash(args.older_than)
        # Housekeeping that belongs to the same schedule: expired Idempotency-Key records.
        keys = await idempotency.purge_expired(settings.idempotency_ttl)
        return notes, keys

    notes, keys = asyncio.run(_with_orm(settings, purge))
    print(f"purged {notes} notes from the trash")
    print(f"removed {keys} expired idempotency keys")
    return 0


def _wait_for_database(settings: Settings) -> bool:
    """Retry an unreachable database for NOTES_DB_CONNECT_TIMEOUT; on failure print one line."""
    from notes_service.startup import DatabaseUnreachable, wait_for_database

    try:
        asyncio.run(wait_for_database(settings))
    except DatabaseUnreachable as exc:
        print(f"notes-service: {exc}", file=sys.stderr)
        return False
    return True


def _exit_after_shutdown(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from notes_service.metrics import share_across_workers

    if not _wait_for_database(settings):
        return 1
    # After a graceful shutdown uvicorn re-raises the signal it caught. Ending with a plain exit
    # status 0 instead lets `_database()` stop an embedded server on the way out.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_after_shutdown)
    share_across_workers(args.workers)  # one /metrics for all workers
    uvicorn.run(
        "notes_service.app:asgi_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        log_config=None,  # logging is ours (notes_service.logs), in every worker
        access_log=False,  # replaced by the notes_service.access line
        timeout_graceful_shutdown=30,
    )
    return 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from notes_service.check import run_check

    report = asyncio.run(run_check(settings, args.workers))
    print("\n".join(report.lines))
    return 1 if report.problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"notes-service: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    try:
        return _run(args, settings)
    except EmbeddedPostgresError as exc:
        print(f"notes-service: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings) as settings:
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "check":
            return _check(args, settings)
        if args.command == "migrate":
            if not _wait_for_database(settings):
                return 1
            applied = asyncio.run(migrate(settings))
            print("applied: " + (", ".join(applied) or "nothing, the schema is current"))
            return 0
        if args.command == "keys":
            return _keys(args, settings)
        if args.command == "export":
            return cli_transfer.run_export(settings, args.owner, args.revisions)
        if args.command == "import":
            return cli_transfer.run_import(settings, args.owner, args.file, args.on_conflict)
        if args.command == "purge-trash":
            return _purge_trash(args, settings)
    raise AssertionError(args.command)
