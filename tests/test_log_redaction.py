"""Log lines carry no bound values from driver errors: a traceback keeps the driver error's type
and SQLSTATE, never its text (asyncpg quotes the value it could not encode, a unique violation
quotes the key)."""

from __future__ import annotations

import logging
import sys

import asyncpg
import pytest

from notes_service.platform.logs import ConsoleFormatter, JsonFormatter

SECRET_TITLE = "my diary: password=hunter2 \ud800"
NOT_A_UUID = "hunter2"


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise RuntimeError("request failed") from exc
    except RuntimeError:
        info = sys.exc_info()
    return logging.LogRecord("notes_service.web.middleware", logging.ERROR, "", 0, "x", (), info)


async def _driver_errors(database_url: str) -> list[BaseException]:
    conn = await asyncpg.connect(database_url)
    errors: list[BaseException] = []
    try:
        try:
            await conn.execute("SELECT CAST($1 AS text)", SECRET_TITLE)
        except asyncpg.DataError as exc:  # client-side: the value cannot be encoded
            errors.append(exc)
        try:
            await conn.execute("SELECT CAST(CAST($1 AS text) AS uuid)", NOT_A_UUID)
        except asyncpg.PostgresError as exc:  # server-side: the message quotes the input
            errors.append(exc)
    finally:
        await conn.close()
    return errors


@pytest.mark.parametrize("formatter", [JsonFormatter(), ConsoleFormatter()])
async def test_a_driver_error_logs_its_type_and_sqlstate_but_no_bound_value(
    database_url: str, formatter: logging.Formatter
) -> None:
    errors = await _driver_errors(database_url)
    assert len(errors) == 2
    assert all("hunter2" in str(exc) for exc in errors)  # what would leak
    for exc in errors:
        line = formatter.format(_record(exc))
        assert "hunter2" not in line, line
        assert type(exc).__name__ in line and "Traceback" in line
        assert "RuntimeError: request failed" in line  # other exceptions keep their text
    assert "SQLSTATE 22P02" in formatter.format(_record(errors[1]))
