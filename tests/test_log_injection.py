"""A log record is one line in every format: control characters in a message, a field or an
exception (a CR/LF in a request path, say) are escaped, so no client can forge a log line."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from notes_service.platform.logs import ConsoleFormatter, JsonFormatter

FORGED = "GET /v1/notes\r\n12:00:00.000 INFO    notes_service.access forged\x1b[2J\x85\u2028\x7f"


def _record(exc_info: bool = False) -> logging.LogRecord:
    info = None
    if exc_info:
        try:
            raise ValueError(FORGED)
        except ValueError:
            info = sys.exc_info()
    record = logging.LogRecord("notes_service.access", logging.INFO, "", 0, FORGED, (), info)
    record.route = FORGED  # an `extra=` field
    return record


@pytest.mark.parametrize("formatter", [ConsoleFormatter(), JsonFormatter()], ids=type)
def test_control_characters_never_break_a_record_into_lines(
    formatter: logging.Formatter,
) -> None:
    text = formatter.format(_record())
    assert "\n" not in text and "\r" not in text and "\u2028" not in text
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text), repr(text)


def test_the_console_format_shows_the_escapes() -> None:
    text = ConsoleFormatter().format(_record())
    assert "GET /v1/notes\\r\\n12:00:00.000" in text
    assert "\\x1b[2J\\x85\\u2028\\x7f" in text


def test_the_json_format_keeps_the_text_exactly() -> None:
    entry = json.loads(JsonFormatter().format(_record()))
    assert entry["message"] == FORGED and entry["route"] == FORGED


def test_a_console_traceback_cannot_pass_for_a_record() -> None:
    _, *rest = ConsoleFormatter().format(_record(exc_info=True)).split("\n")
    assert rest and all(line.startswith("    ") for line in rest)
    assert not any("\r" in line or "\x1b" in line for line in rest)
    assert any(line.endswith("ValueError: GET /v1/notes\\r") for line in rest)
