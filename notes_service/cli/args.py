"""The command line: commands, flags, help texts and the documented exit statuses."""

from __future__ import annotations

import argparse
import uuid
from datetime import timedelta
from typing import NoReturn

from notes_service import __version__
from notes_service.accounts.owners import OWNER_RULE, check_owner_name
from notes_service.accounts.scopes import ALL_SCOPES
from notes_service.cli import db as cli_db
from notes_service.platform.settings import parse_duration

EXIT_STATUSES = """exit status:
  0  success
  1  the command failed (one line on stderr says why)
  2  usage error: bad arguments or a bad NOTES_* setting
  3  `db status`: the embedded PostgreSQL is not running"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2), like every failure."""

    def error(self, message: str) -> NoReturn:
        if message.endswith("expected one argument"):
            # `--older-than -5d`: argparse takes `-5d` for an option, not a value.
            message += " (a value that starts with '-' needs '=': --option=VALUE)"
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="notes-service",
        description="The notes service.",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log INFO lines on stderr (serve always does)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default: %(default)s)")
    serve.add_argument(
        "--workers", type=int, default=1,
        help="uvicorn worker processes, each with its own pools (default: %(default)s)",
    )  # fmt: skip
    serve.add_argument(
        "--reload",
        action="store_true",
        help="restart when a file in notes_service/ changes (development; one worker)",
    )

    commands.add_parser(
        "worker",
        help="deliver webhooks, without the HTTP service (serve delivers them too by default)",
    )
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
        dest="keys_command", required=True, metavar="KEYS_COMMAND"
    )
    create = keys.add_parser("create", help="create a key, and its owner if needed")
    create.add_argument("--owner", required=True, type=_owner, help=OWNER_RULE)
    create.add_argument("--label", default="")
    create.add_argument(
        "--scope", action="append", choices=ALL_SCOPES, dest="scopes",
        help="a scope the key holds; repeat for more (default: every scope)",
    )  # fmt: skip
    create.add_argument(
        "--expires-in", type=_duration, default=None, metavar="DURATION",
        help="the key expires after this long: 3600, 90s, 15m, 24h or 30d (default: never)",
    )  # fmt: skip
    listing = keys.add_parser("list", help="list an owner's keys (never the secrets)")
    listing.add_argument("--owner", required=True, type=_owner)
    revoke = keys.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id", type=_key_id)

    export = commands.add_parser("export", help="write an owner's notes as NDJSON to stdout")
    export.add_argument("--owner", required=True, type=_owner)
    export.add_argument("--revisions", action="store_true", help="include every revision")
    imports = commands.add_parser("import", help="import NDJSON (the export format) for an owner")
    imports.add_argument("--owner", required=True, type=_owner, help="created if needed")
    imports.add_argument("file", help="an NDJSON file, or - for stdin")
    imports.add_argument(
        "--on-conflict", choices=["skip", "overwrite", "fail"], default="fail",
        help="what to do with a line whose id is already one of the owner's notes "
        "(default: %(default)s)",
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
    cli_db.add_parser(commands)
    return parser


def _owner(text: str) -> str:
    try:
        return check_owner_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _key_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a key id (a UUID): {text!r}") from None


def _duration(text: str) -> timedelta:
    if text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"{text!r} is negative; give a positive duration")
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} {exc}") from None
