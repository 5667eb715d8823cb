"""Import at any size: the CLI works in chunks (one transaction each, flat memory) and names
the lines of a chunk that fails; one HTTP request stays all or nothing, capped in notes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from notes_service.cli.transfer import IMPORT_CHUNK_LINES
from notes_service.platform.settings import Settings
from tests.support.cli import run_cli
from tests.support.factories import api_key, count


def _write(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    return path


async def test_the_cli_imports_50000_lines(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    # Every line carries an id: the lookup of 50,000 ids once needed more than the 32,767 bind
    # arguments a statement may have, and the import crashed.
    lines: list[dict[str, object]] = [
        {"id": str(uuid.uuid4()), "title": f"n{i}"} for i in range(50_000)
    ]
    result = run_cli(
        "import",
        "--owner",
        "dora",
        str(_write(tmp_path / "big.ndjson", lines)),
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    assert "created 50000, updated 0, skipped 0" in result.stdout
    assert "imported: 50000/50000" in result.stderr  # the progress count
    assert await count("notes") == 50_000
    assert await count("revisions") == 50_000


async def test_a_failing_cli_chunk_names_its_lines_and_keeps_the_chunks_before(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    headers = await api_key("erin")
    existing = await client.post("/v1/notes", json={"title": "already here"}, headers=headers)
    size = IMPORT_CHUNK_LINES
    lines: list[dict[str, object]] = [{"title": f"n{i}"} for i in range(size * 2 + 10)]
    clash = size + 5  # in the second chunk: lines size+1 .. 2*size
    lines[clash] = {"id": existing.json()["id"], "title": "clash"}
    result = run_cli(
        "import",
        "--owner",
        "erin",
        str(_write(tmp_path / "clash.ndjson", lines)),
        database_url=database_url,
    )
    assert result.returncode == 1
    assert f"lines {size + 1}-{2 * size} were not imported" in result.stderr, result.stderr
    assert f"lines before {size + 1} were imported (created {size}" in result.stderr
    assert "Traceback" not in result.stderr
    assert await count("notes") == 1 + size  # the first chunk committed, nothing after


async def test_a_failing_first_chunk_says_nothing_was_imported(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    headers = await api_key("gus")
    existing = await client.post("/v1/notes", json={"title": "already here"}, headers=headers)
    lines: list[dict[str, object]] = [{"title": f"n{i}"} for i in range(20)]
    lines[3] = {"id": existing.json()["id"], "title": "clash"}
    result = run_cli(
        "import",
        "--owner",
        "gus",
        str(_write(tmp_path / "clash.ndjson", lines)),
        database_url=database_url,
    )
    assert result.returncode == 1
    assert "lines 1-20 were not imported" in result.stderr, result.stderr
    assert "nothing was imported; fix the file and rerun," in result.stderr, result.stderr
    assert "lines before" not in result.stderr
    assert await count("notes") == 1


async def test_the_cli_refuses_a_bad_file_before_writing_anything(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    lines: list[dict[str, object]] = [{"title": f"n{i}"} for i in range(IMPORT_CHUNK_LINES + 50)]
    lines[-1] = {"title": ""}
    result = run_cli(
        "import",
        "--owner",
        "fay",
        str(_write(tmp_path / "bad.ndjson", lines)),
        database_url=database_url,
    )
    assert result.returncode == 1
    assert f"line {len(lines)}: must not be blank" in result.stderr
    assert await count("notes") == 0


async def test_an_http_import_is_capped_in_notes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await api_key()
    limit = settings.import_max_lines
    body = b'{"title": "x"}\n' * (limit + 1)
    response = await client.post("/v1/import", content=body, headers=headers)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "NOTES_IMPORT_MAX_LINES" in response.json()["detail"]
    assert await count("notes") == 0
    blank_lines_do_not_count = b'{"title": "x"}\n\n' * limit
    response = await client.post("/v1/import", content=blank_lines_do_not_count, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == limit
