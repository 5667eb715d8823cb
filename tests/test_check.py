"""`notes-service check`: configuration, reachability, migrations, connection budget."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from tests.support.cli import run_cli
from tests.support.servers import free_port

SMALL_POOLS = {"NOTES_DB_POOL_MAX": "5", "NOTES_READ_DB_POOL_MAX": "5"}


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(
        parts._replace(netloc=f"{parts.username}:{password}@{parts.netloc.split('@')[-1]}")
    )


def test_check_passes_and_masks_the_password(database_url: str) -> None:
    # The test servers trust local connections, so the password is accepted and ignored.
    url = _with_password(database_url, "s3cret-pw")
    result = run_cli("check", database_url=url, **SMALL_POOLS)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "s3cret-pw" not in out + result.stderr
    assert ":***@" in out
    assert "NOTES_DB_POOL_MAX=5" in out
    assert "write " in out and "reachable (PostgreSQL" in out
    assert ": current" in out
    assert "1 worker(s) x (write 5 + read 5 + listen 1 + webhooks 1)" in out
    assert "12 connections needed" in out and ": ok" in out
    assert out.strip().endswith("result: ok")


def test_check_fails_when_the_workers_exceed_the_connection_budget(database_url: str) -> None:
    result = run_cli("check", "--workers", "50", database_url=database_url, **SMALL_POOLS)
    assert result.returncode == 1
    # 50 x (5 + 5 + 1) = 550, over any default max_connections (100 on Debian, 200 embedded).
    assert "600 connections needed" in result.stdout
    assert "OVER BUDGET" in result.stdout
    assert "result: FAILED: connection budget exceeded" in result.stdout


def test_check_fails_when_the_database_is_unreachable() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/notes"
    result = run_cli("check", database_url=url, NOTES_DB_ACQUIRE_TIMEOUT="2")
    assert result.returncode == 1
    assert "UNREACHABLE" in result.stdout
    assert "Traceback" not in result.stderr


def test_check_fails_when_migrations_are_pending(empty_database: str) -> None:
    result = run_cli("check", database_url=empty_database, **SMALL_POOLS)
    assert result.returncode == 1
    assert "applied nothing" in result.stdout and "PENDING" in result.stdout
