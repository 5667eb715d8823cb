from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cli import run_cli
from tests.support.factories import api_key, count, create_note

COMPARED = ("title", "body", "tags", "pinned", "archived", "created_at", "updated_at", "deleted_at")


async def export(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    response = await client.get("/v1/export", params=params, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    return [json.loads(line) for line in response.text.splitlines()]


def ndjson(notes: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(note).encode() + b"\n" for note in notes)


async def seed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    a = await create_note(client, headers, title="alpha", body="one", tags=["x", "y"])
    b = await create_note(client, headers, title="beta", pinned=True)
    c = await create_note(client, headers, title="gamma", archived=True)
    await client.patch(f"/v1/notes/{a['id']}", json={"body": "two"}, headers=headers)
    await client.delete(f"/v1/notes/{c['id']}", headers=headers)
    return [a, b, c]


def comparable(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({k: n[k] for k in COMPARED} for n in notes), key=lambda n: n["title"])


async def test_export_then_import_into_another_owner_gives_identical_notes(
    client: httpx.AsyncClient,
) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    await seed(client, alice)
    exported = await export(client, alice)
    assert len(exported) == 3

    response = await client.post("/v1/import", content=ndjson(exported), headers=bob)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 3, "updated": 0, "skipped": 0}
    imported = await export(client, bob)
    assert comparable(imported) == comparable(exported)
    # Alice's ids belong to Alice: Bob's copies got new ones, and Alice's notes are untouched.
    assert {n["id"] for n in imported}.isdisjoint({n["id"] for n in exported})
    assert await export(client, alice) == exported


async def test_export_with_revisions_carries_the_history(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    await seed(client, headers)
    notes = {n["title"]: n for n in await export(client, headers, revisions="true")}
    assert [r["body"] for r in notes["alpha"]["revisions"]] == ["one", "two"]
    assert [r["deleted"] for r in notes["gamma"]["revisions"]] == [False, True]
    assert notes["alpha"]["revisions"][0]["created_at"].endswith("Z")


async def test_import_conflicts_fail_skip_or_overwrite(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    await seed(client, headers)
    exported = await export(client, headers)
    changed = [n | {"title": n["title"] + "!"} for n in exported]

    fail = await client.post("/v1/import", content=ndjson(changed), headers=headers)
    assert fail.status_code == 409
    assert fail.json()["type"].endswith(":import-conflict")
    assert await export(client, headers) == exported

    skip = await client.post(
        "/v1/import", params={"on_conflict": "skip"}, content=ndjson(changed), headers=headers
    )
    assert skip.json() == {"created": 0, "updated": 0, "skipped": 3}

    overwrite = await client.post(
        "/v1/import", params={"on_conflict": "overwrite"}, content=ndjson(changed), headers=headers
    )
    assert overwrite.json() == {"created": 0, "updated": 3, "skipped": 0}
    after = {n["id"]: n for n in await export(client, headers)}
    for before in exported:
        assert after[before["id"]]["title"] == before["title"] + "!"
        assert after[before["id"]]["version"] == before["version"] + 1


async def test_a_bad_line_500_writes_nothing(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    lines = [json.dumps({"title": f"n{i}", "tags": ["bulk"]}).encode() for i in range(1, 600)]
    lines[499] = b'{"title": "", "body": 5}'
    response = await client.post("/v1/import", content=b"\n".join(lines), headers=headers)
    assert response.status_code == 422
    problem = response.json()
    assert problem["detail"].startswith("line 500 ")
    assert {tuple(e["loc"][:2]) for e in problem["errors"]} == {("body", 500)}
    assert await count("notes") == 0
    assert await count("tags") == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not json\n",
        b"[1, 2]\n",
        b'{"title": "x", "colour": "red"}\n',
        b'{"title": "x", "id": "not-a-uuid"}\n',
        b'{"title": "x", "created_at": "yesterday"}\n',
        b'{"title": "x", "tags": ["a b"]}\n',
        b'{"title": "nul \\u0000"}\n',
    ],
)
async def test_malformed_lines_get_422_naming_line_1(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/v1/import", content=body, headers=await api_key())
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:2] == ["body", 1]
    assert await count("notes") == 0


async def test_import_rejects_an_unknown_conflict_mode(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/import", params={"on_conflict": "merge"}, content=b"", headers=await api_key()
    )
    assert response.status_code == 422


async def test_export_is_per_owner(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    await seed(client, alice)
    assert await export(client, bob) == []


async def test_cli_export_and_import_round_trip(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    alice = await api_key("alice")
    await seed(client, alice)
    exported = run_cli("export", "--owner", "alice", database_url=database_url)
    assert exported.returncode == 0, exported.stderr
    assert "exported: 3/3" in exported.stderr
    dump = tmp_path / "alice.ndjson"
    dump.write_text(exported.stdout)

    imported = run_cli("import", "--owner", "carol", str(dump), database_url=database_url)
    assert imported.returncode == 0, imported.stderr
    assert "created 3, updated 0, skipped 0" in imported.stdout
    carol = await api_key("carol")
    assert comparable(await export(client, carol)) == comparable(await export(client, alice))

    again = run_cli("import", "--owner", "carol", str(dump), database_url=database_url)
    assert again.returncode == 0  # alice's ids stay alice's: carol gets three more copies
    assert "created 3, updated 0, skipped 0" in again.stdout
    broken = tmp_path / "broken.ndjson"
    broken.write_text('{"title": "ok"}\n{"title": ""}\n')
    failed = run_cli("import", "--owner", "carol", str(broken), database_url=database_url)
    assert failed.returncode == 1
    assert "line 2" in failed.stderr
