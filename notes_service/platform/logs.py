"""Logging: one JSON object per line (or a console format for humans), with the request id of the
request being served on every line logged while serving it."""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from notes_service.platform.settings import Settings

# Set by the request middleware (middleware.py) for the duration of a request.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# The attributes every LogRecord has; anything else was passed with `extra=` and is a field.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_CONSOLE_FIELDS = ("method", "route", "status", "duration_ms", "owner")

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: a CR/LF in a logged
# path or header would otherwise start a forged line of its own.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_match(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def escape_controls(text: str) -> str:
    """`\\n`, `\\r`, `\\t`, `\\xNN` or `\\uNNNN` for each control character: one record,
    one line."""
    return _CONTROL.sub(_escape_match, text)


# Driver and ORM messages can quote bound values (asyncpg's "invalid input for query argument
# $2: 'the user's title'", a unique violation's "Key (name)=(...)"): a log line keeps their
# type, module and SQLSTATE, never their text.
_DRIVER_MODULES = ("asyncpg", "tortoise", "databases", "sqlalchemy")


def is_driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in _DRIVER_MODULES


def describe_error(exc: BaseException, withhold: bool = False) -> str:
    """`module.Type: message`, the message withheld for driver errors (and when asked)."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if not (withhold or is_driver_error(exc)):
        return f"{name}: {exc}"
    sqlstate = getattr(exc, "sqlstate", None)
    return f"{name}: [driver message withheld{f'; SQLSTATE {sqlstate}' if sqlstate else ''}]"


def format_exception(
    exc: BaseException, seen: set[int] | None = None, withhold: bool = False
) -> str:
    """Like `traceback.format_exception`, chain included, with driver messages withheld; so are
    those of the exceptions a driver error came from (asyncpg's own `ValueError: invalid UUID
    '<the value>'` under its DataError)."""
    seen = set() if seen is None else seen
    seen.add(id(exc))
    withhold = withhold or is_driver_error(exc)
    text = ""
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and id(cause) not in seen:
        link = (
            "The above exception was the direct cause of the following exception:"
            if exc.__cause__ is not None
            else "During handling of the above exception, another exception occurred:"
        )
        text = format_exception(cause, seen, withhold) + f"\n{link}\n\n"
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return text + f"Traceback (most recent call last):\n{frames}{describe_error(exc, withhold)}"


class _SafeExceptions(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return format_exception(ei[1]) if ei and ei[1] is not None else ""


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and k != "request_id"}


class JsonFormatter(_SafeExceptions):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update(_extra_fields(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # json.dumps escapes C0 controls, and ensure_ascii C1 and U+2028/9; DEL is left.
        return json.dumps(entry, default=str, ensure_ascii=True).replace("\x7f", "\\u007f")


class ConsoleFormatter(_SafeExceptions):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S.%f")[:-3]
        request_id = getattr(record, "request_id", None)
        line = f"{ts} {record.levelname:<7} {record.name}"
        if request_id:
            line += f" [{request_id}]"
        line += f" {record.getMessage()}"
        fields = _extra_fields(record)
        order = [k for k in _CONSOLE_FIELDS if k in fields]
        order += sorted(k for k in fields if k not in _CONSOLE_FIELDS)
        if order:
            line += " " + " ".join(f"{k}={fields[k]}" for k in order)
        line = escape_controls(line)
        if record.exc_info:
            # A traceback keeps its lines, each indented under the record's own: no line of it
            # can pass for a record, whatever an exception's message holds.
            text = self.formatException(record.exc_info)
            line += "".join(f"\n    {escape_controls(part)}" for part in text.split("\n"))
        return line


def make_handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else ConsoleFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


class _TortoiseLifecycle(logging.Filter):
    """Drops Tortoise's own start and shutdown lines (not its SQL debug lines, which come from
    the child logger `tortoise.db_client` and pass no filter of this one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and str(record.msg).startswith("Tortoise-ORM"))


def configure_logging(settings: Settings) -> None:
    """Route every logger (uvicorn's too) through one handler on the root logger."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_notes_service", False):
            root.removeHandler(handler)
    handler = make_handler(settings.log_format)
    handler._notes_service = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Our access line (notes_service.access) replaces uvicorn's.
    logging.getLogger("uvicorn.access").disabled = True
    # Tortoise says "Tortoise-ORM shutdown" whenever connections close, at start-up too (after
    # migrating) and twice at shutdown; the lifespan's own started/stopped lines say it right.
    tortoise = logging.getLogger("tortoise")
    if not any(isinstance(f, _TortoiseLifecycle) for f in tortoise.filters):
        tortoise.addFilter(_TortoiseLifecycle())
