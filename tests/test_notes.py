from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.factories import api_key, create_note

PROBLEM = "application/problem+json"


async def test_create_returns_201_with_location_and_trimmed_title(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    response = await client.post(
        "/v1/notes", json={"title": "  Groceries  ", "body": "milk"}, headers=headers
    )
    assert response.status_code == 201
    note = response.json()
    assert response.headers["location"] == f"/v1/notes/{note['id']}"
    assert note["title"] == "Groceries"
    assert note["body"] == "milk"
    assert note["version"] == 1
    assert note["pinned"] is False and note["archived"] is False
    assert note["deleted_at"] is None
    assert note["created_at"] == note["updated_at"]
    assert note["created_at"].endswith("Z")


async def test_create_defaults_body_to_empty(client: httpx.AsyncClient) -> None:
    note = await create_note(client, await api_key(), title="Only a title", body="")
    assert note["body"] == ""


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({}, ["body", "title"]),
        ({"title": "   "}, ["body", "title"]),
        ({"title": "x" * 201}, ["body", "title"]),
        ({"title": None}, ["body", "title"]),
        ({"title": 5}, ["body", "title"]),
        ({"title": "ok", "body": "x" * 100_001}, ["body", "body"]),
        ({"title": "ok", "body": "nul\x00byte"}, ["body", "body"]),
        ({"title": "ok", "pinned": "yes"}, ["body", "pinned"]),
        ({"title": "ok", "owner_id": 2}, ["body", "owner_id"]),
    ],
)
async def test_create_rejects_bad_input_with_422_and_writes_nothing(
    client: httpx.AsyncClient, payload: dict[str, object], loc: list[str]
) -> None:
    headers = await api_key()
    response = await client.post("/v1/notes", json=payload, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"].endswith(":validation")
    assert loc in [error["loc"] for error in problem["errors"]]
    assert (await client.get("/v1/notes", headers=headers)).json()["items"] == []


async def test_title_of_exactly_200_characters_is_accepted(client: httpx.AsyncClient) -> None:
    note = await create_note(client, await api_key(), title="t" * 200)
    assert len(note["title"]) == 200


# Malformed JSON is a 400 `invalid-json` (SPEC §3; tests/test_request_errors.py); valid JSON of
# the wrong shape is a 422.
@pytest.mark.parametrize("body", [b"[1, 2]", b'"a string"'])
async def test_json_of_the_wrong_shape_gets_422_problem(
    client: httpx.AsyncClient, body: bytes
) -> None:
    headers = await api_key() | {"content-type": "application/json"}
    response = await client.post("/v1/notes", content=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"]


async def test_get_returns_the_note(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    response = await client.get(f"/v1/notes/{note['id']}", headers=headers)
    assert response.status_code == 200
    assert response.json() == note


async def test_get_unknown_note_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/notes/{uuid.uuid4()}", headers=await api_key())
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith(":not-found")


async def test_get_with_a_malformed_id_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/notes/not-a-uuid", headers=await api_key())
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "note_id"]


async def test_patch_changes_fields_and_bumps_version(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers, title="Before")
    response = await client.patch(
        f"/v1/notes/{note['id']}", json={"title": " After ", "pinned": True}, headers=headers
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["title"] == "After"
    assert updated["pinned"] is True
    assert updated["body"] == note["body"]
    assert updated["version"] == 2
    assert updated["updated_at"] > note["updated_at"]
    assert updated["created_at"] == note["created_at"]


async def test_patch_that_changes_nothing_keeps_the_version(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers, title="Same")
    for payload in ({}, {"title": "Same"}, {"title": "  Same ", "pinned": False}):
        response = await client.patch(f"/v1/notes/{note['id']}", json=payload, headers=headers)
        assert response.status_code == 200
        assert response.json() == note


@pytest.mark.parametrize(
    "payload", [{"title": None}, {"body": None}, {"pinned": None}, {"color": "red"}, {"title": ""}]
)
async def test_patch_rejects_bad_input_and_keeps_the_note(
    client: httpx.AsyncClient, payload: dict[str, object]
) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    response = await client.patch(f"/v1/notes/{note['id']}", json=payload, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert (await client.get(f"/v1/notes/{note['id']}", headers=headers)).json() == note


async def test_patch_unknown_note_is_404(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        f"/v1/notes/{uuid.uuid4()}", json={"title": "x"}, headers=await api_key()
    )
    assert response.status_code == 404


async def test_delete_moves_to_trash_idempotently(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    first = await client.delete(f"/v1/notes/{note['id']}", headers=headers)
    assert first.status_code == 204
    assert first.content == b""
    trashed = (await client.get(f"/v1/notes/{note['id']}", headers=headers)).json()
    assert trashed["deleted_at"] is not None
    assert trashed["version"] == 2

    second = await client.delete(f"/v1/notes/{note['id']}", headers=headers)
    assert second.status_code == 204
    again = (await client.get(f"/v1/notes/{note['id']}", headers=headers)).json()
    assert again == trashed


async def test_trashed_note_cannot_be_patched(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    note = await create_note(client, headers)
    await client.delete(f"/v1/notes/{note['id']}", headers=headers)
    response = await client.patch(f"/v1/notes/{note['id']}", json={"title": "x"}, headers=headers)
    assert response.status_code == 409
    assert response.json()["type"].endswith(":note-trashed")


async def test_delete_unknown_note_is_404(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"/v1/notes/{uuid.uuid4()}", headers=await api_key())
    assert response.status_code == 404


async def test_list_is_newest_updated_first_and_excludes_trash(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    first = await create_note(client, headers, title="first")
    second = await create_note(client, headers, title="second")
    third = await create_note(client, headers, title="third")
    await client.patch(f"/v1/notes/{first['id']}", json={"body": "touched"}, headers=headers)
    await client.delete(f"/v1/notes/{second['id']}", headers=headers)

    response = await client.get("/v1/notes", headers=headers)
    assert response.status_code == 200
    page = response.json()
    assert [n["title"] for n in page["items"]] == ["first", "third"]
    assert page["next_cursor"] is None
    assert page["items"][1] == third


async def test_list_honours_limit(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    for i in range(3):
        await create_note(client, headers, title=f"n{i}")
    page = (await client.get("/v1/notes", params={"limit": 2}, headers=headers)).json()
    assert [n["title"] for n in page["items"]] == ["n2", "n1"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1e3", "99999999999999999999"])
async def test_list_rejects_bad_limits(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get("/v1/notes", params={"limit": limit}, headers=await api_key())
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == ["query", "limit"]


async def test_other_owners_notes_are_404_on_every_route(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    note = await create_note(client, alice, title="private")
    url = f"/v1/notes/{note['id']}"

    assert (await client.get(url, headers=bob)).status_code == 404
    assert (await client.patch(url, json={"title": "x"}, headers=bob)).status_code == 404
    assert (await client.delete(url, headers=bob)).status_code == 404
    assert (await client.get("/v1/notes", headers=bob)).json()["items"] == []
    assert (await client.get(url, headers=alice)).json() == note
