"""The CLI without rough edges: one line per failure with a documented exit status, stdin
imports, owner names, one rule for unknown owners, --version, help, durations, quiet logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from notes_service.platform.settings import PROJECT_DIR
from tests.support.cli import run_cli


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _owner() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"


def test_import_of_a_missing_file_is_one_line(database_url: str) -> None:
    result = run_cli(
        "import", "--owner", _owner(), "/nonexistent/x.ndjson", database_url=database_url
    )
    assert result.returncode == 1
    assert (
        _one_line(result.stderr) == "notes-service: cannot read /nonexistent/x.ndjson: no such file"
    )


def test_import_dash_reads_stdin(database_url: str) -> None:
    owner = _owner()
    lines = "".join(json.dumps({"title": f"from stdin {i}"}) + "\n" for i in range(3))
    result = subprocess.run(
        [sys.executable, "-m", "notes_service", "import", "--owner", owner, "-"],
        cwd=PROJECT_DIR,
        env={**os.environ, "NOTES_DATABASE_URL": database_url},
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "created 3, updated 0, skipped 0" in result.stdout
    exported = run_cli("export", "--owner", owner, database_url=database_url)
    assert sorted(json.loads(line)["title"] for line in exported.stdout.splitlines()) == [
        "from stdin 0", "from stdin 1", "from stdin 2",
    ]  # fmt: skip


def test_import_conflict_hint_names_the_cli_flag(database_url: str, tmp_path: Path) -> None:
    owner = _owner()
    path = tmp_path / "one.ndjson"
    path.write_text(json.dumps({"id": str(uuid.uuid4()), "title": "once"}) + "\n")
    first = run_cli("import", "--owner", owner, str(path), database_url=database_url)
    assert first.returncode == 0, first.stderr
    again = run_cli("import", "--owner", owner, str(path), database_url=database_url)
    assert again.returncode == 1
    assert "--on-conflict skip" in again.stderr and "--on-conflict overwrite" in again.stderr
    assert "on_conflict=" not in again.stderr


@pytest.mark.parametrize("name", ["", " alice", "alice ", "a b", "x" * 101, "-dash", "a/b"])
def test_owner_names_are_validated(database_url: str, name: str) -> None:
    result = run_cli("keys", "create", "--owner", name, database_url=database_url)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert line.startswith("notes-service keys create: error: argument --owner:")
    assert result.stdout == ""


def test_valid_owner_names_are_accepted(database_url: str) -> None:
    for name in ("alice", "bob.smith", "ops_team-2", "x@example.org"):
        result = run_cli("keys", "create", "--owner", name, database_url=database_url)
        assert result.returncode == 0, result.stderr


def test_an_unknown_owner_fails_the_same_way_everywhere(database_url: str) -> None:
    for args in (["keys", "list"], ["export"]):
        result = run_cli(*args, "--owner", "nobody-here", database_url=database_url)
        assert result.returncode == 1, args
        assert _one_line(result.stderr) == "notes-service: no owner named 'nobody-here'"
        assert result.stdout == ""


def test_version_and_serve_help() -> None:
    version = run_cli("--version", database_url="postgresql://unused@127.0.0.1/x")
    assert version.returncode == 0
    assert version.stdout.startswith("notes-service ")
    helped = run_cli("serve", "--help", database_url="postgresql://unused@127.0.0.1/x")
    text = " ".join(helped.stdout.split())
    assert "address to listen on (default: 127.0.0.1)" in text
    assert "TCP port (default: 8000)" in text
    assert "worker processes, each with its own pools (default: 1)" in text
    top = run_cli("--help", database_url="postgresql://unused@127.0.0.1/x").stdout
    assert "exit status:" in top and "2  usage error" in top


def test_usage_errors_are_one_line_with_status_2() -> None:
    url = "postgresql://unused@127.0.0.1/x"
    negative = run_cli("purge-trash", "--older-than=-5d", database_url=url)
    assert negative.returncode == 2
    assert "'-5d' is negative; give a positive duration" in _one_line(negative.stderr)
    spaced = run_cli("purge-trash", "--older-than", "-5d", database_url=url)
    assert spaced.returncode == 2
    assert "needs '=': --option=VALUE" in _one_line(spaced.stderr)
    bad = run_cli("purge-trash", "--older-than", "5 weeks", database_url=url)
    assert bad.returncode == 2
    assert "must be a duration such as" in _one_line(bad.stderr)
    missing = run_cli("keys", "create", database_url=url)
    assert missing.returncode == 2
    assert "required: --owner" in _one_line(missing.stderr)
    not_uuid = run_cli("keys", "revoke", "abc", database_url=url)
    assert "not a key id (a UUID)" in _one_line(not_uuid.stderr)


def test_check_prints_durations_as_written(database_url: str) -> None:
    result = run_cli("check", database_url=database_url, NOTES_IDEMPOTENCY_TTL="24h")
    assert "NOTES_IDEMPOTENCY_TTL=24h" in result.stdout
    assert "day" not in result.stdout
    result = run_cli("check", database_url=database_url, NOTES_IDEMPOTENCY_TTL="90s")
    assert "NOTES_IDEMPOTENCY_TTL=90s" in result.stdout


def test_no_info_lines_by_default_and_v_shows_them(database_url: str) -> None:
    quiet = run_cli("keys", "create", "--owner", _owner(), database_url=database_url)
    assert quiet.returncode == 0
    assert quiet.stderr == "Store the key now: it is not shown again.\n"
    loud = run_cli("-v", "keys", "create", "--owner", _owner(), database_url=database_url)
    assert "INFO" in loud.stderr and "connected to " in loud.stderr, loud.stderr


def test_an_unreachable_database_is_one_line(database_url: str) -> None:
    url = "postgresql://postgres@127.0.0.1:9/nowhere"  # port 9 (discard): nothing listens
    result = run_cli("keys", "list", "--owner", "alice", database_url=url)
    assert result.returncode == 1
    assert _one_line(result.stderr).startswith("notes-service: ")
