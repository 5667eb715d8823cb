from __future__ import annotations

import base64
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.factories import api_key, create_note, insert_note, owner_with_key
from tests.support.pages import pages

SORTS = ["-updated_at", "updated_at", "-created_at", "created_at"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)
_owners = itertools.count()


async def walk(
    client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, Any]
) -> list[str]:
    """Every id the list returns, following next_cursor to the end."""
    ids: list[str] = []
    async for response in pages(client, "/v1/notes", headers, params):
        page = response.json()
        assert len(page["items"]) <= params.get("limit", 20)
        ids += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            assert "link" not in response.headers
        else:
            assert response.headers["link"].endswith('>; rel="next"')
    return ids


note_specs = st.lists(
    st.fixed_dictionaries(
        {
            "created": st.integers(0, 4),
            "updated": st.integers(0, 4),
            "pinned": st.booleans(),
            "archived": st.booleans(),
            "trashed": st.booleans(),
        }
    ),
    max_size=25,
)


def _sort_key(note: dict[str, Any], column: str) -> tuple[datetime, uuid.UUID]:
    return note[column], note["id"]


def _tie_on_every_boundary(
    matches: list[dict[str, Any]], column: str, descending: bool, limit: int
) -> None:
    """Give the first item of each later page the sort value of the last item of the page
    before it (in place), so that every page boundary falls inside a tie: only the id orders
    the two. A note is never updated before it was created."""
    for boundary in range(limit, len(matches), limit):
        ordered = sorted(matches, key=lambda n: _sort_key(n, column), reverse=descending)
        value, after = ordered[boundary - 1][column], ordered[boundary]
        after[column] = value
        if column == "created_at":
            after["updated_at"] = max(after["updated_at"], value)
        else:
            after["created_at"] = min(after["created_at"], value)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=note_specs,
    sort=st.sampled_from(SORTS),
    pinned=st.sampled_from([None, True, False]),
    archived=st.booleans(),
    trashed=st.booleans(),
    limit=st.integers(1, 7),
)
async def test_walking_the_cursors_yields_every_match_once_in_order(
    client: httpx.AsyncClient,
    specs: list[dict[str, Any]],
    sort: str,
    pinned: bool | None,
    archived: bool,
    trashed: bool,
    limit: int,
) -> None:
    # A fresh owner per example: the tables are truncated per test, not per example.
    owner_id, headers = await owner_with_key(f"prop-{next(_owners)}")
    column, descending = sort.lstrip("-"), sort.startswith("-")
    notes = []
    for spec in specs:
        created = BASE + timedelta(seconds=spec["created"])
        notes.append(
            {
                "id": uuid.uuid4(),
                "created_at": created,
                "updated_at": created + timedelta(seconds=spec["updated"]),
                "pinned": spec["pinned"],
                "archived": spec["archived"],
                "deleted_at": BASE if spec["trashed"] else None,
            }
        )
    matches = [
        n
        for n in notes
        if (pinned is None or n["pinned"] == pinned)
        and n["archived"] == archived
        and (n["deleted_at"] is not None) == trashed
    ]
    # Ties on a page boundary on purpose, not by chance: the id tie-break decides those pages.
    _tie_on_every_boundary(matches, column, descending, limit)
    for note in notes:
        await insert_note(owner_id, **note)
    expected = sorted(matches, key=lambda n: _sort_key(n, column), reverse=descending)
    params: dict[str, Any] = {"sort": sort, "limit": limit, "archived": archived}
    params |= {"trashed": trashed} | ({} if pinned is None else {"pinned": pinned})
    assert await walk(client, headers, params) == [str(n["id"]) for n in expected]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sort=st.sampled_from(SORTS),
    writes=st.lists(st.tuples(st.sampled_from(["create", "update"]), st.integers(0, 100))),
)
async def test_writes_between_pages_never_repeat_a_note(
    client: httpx.AsyncClient, sort: str, writes: list[tuple[str, int]]
) -> None:
    _, headers = await owner_with_key(f"interleave-{next(_owners)}")
    ids = [(await create_note(client, headers, title=f"n{i}"))["id"] for i in range(12)]
    seen: list[str] = []
    updated: set[str] = set()
    pending = list(writes)
    async for response in pages(client, "/v1/notes", headers, {"sort": sort, "limit": 3}):
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        for kind, pick in pending[:3]:
            if kind == "create":
                ids.append((await create_note(client, headers, title="new"))["id"])
            else:
                target = ids[pick % len(ids)]
                updated.add(target)
                body = {"body": uuid.uuid4().hex}
                patched = await client.patch(f"/v1/notes/{target}", json=body, headers=headers)
                assert patched.is_success
        pending = pending[3:]
    assert len(seen) == len(set(seen))
    # A note updated mid-walk may be left for the next sync; every other one is served.
    assert set(ids[:12]) - set(seen) <= updated


async def test_default_list_excludes_archived_and_trashed(client: httpx.AsyncClient) -> None:
    owner_id, headers = await owner_with_key()
    plain = await insert_note(owner_id, title="plain")
    archived = await insert_note(owner_id, title="archived", archived=True)
    trashed = await insert_note(owner_id, title="trashed", deleted_at=BASE)

    async def titles(**params: Any) -> set[str]:
        page = (await client.get("/v1/notes", params=params, headers=headers)).json()
        return {item["title"] for item in page["items"]}

    assert await titles() == {plain.title}
    assert await titles(archived="true") == {archived.title}
    assert await titles(trashed="true") == {trashed.title}
    assert await titles(archived="false", trashed="false") == {plain.title}


async def test_updated_after_filters_strictly(client: httpx.AsyncClient) -> None:
    owner_id, headers = await owner_with_key()
    await insert_note(owner_id, title="old", updated_at=BASE)
    await insert_note(owner_id, title="new", updated_at=BASE + timedelta(hours=1))
    params = {"updated_after": BASE.isoformat()}
    page = (await client.get("/v1/notes", params=params, headers=headers)).json()
    assert [item["title"] for item in page["items"]] == ["new"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("updated_after", "2026-01-01T00:00:00"),  # no offset: ambiguous
        ("updated_after", "yesterday"),
        ("updated_after", "2026-13-45T00:00:00Z"),
        ("sort", "title"),
        ("sort", "-updated_at; DROP TABLE notes"),
        ("pinned", "maybe"),
        ("trashed", "2"),
    ],
)
async def test_bad_list_parameters_get_422(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await client.get("/v1/notes", params={name: value}, headers=await api_key())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", name]


async def _a_cursor(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> str:
    for i in range(3):
        await create_note(client, headers, title=f"n{i}")
    page = (await client.get("/v1/notes", params={"limit": 1} | params, headers=headers)).json()
    cursor: str = page["next_cursor"]
    assert cursor
    return cursor


def _flip(text: str, index: int) -> str:
    swapped = "A" if text[index] != "A" else "B"
    return text[:index] + swapped + text[index + 1 :]


async def test_tampered_or_garbled_cursors_get_400(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    cursor = await _a_cursor(client, headers)
    body, signature = cursor.split(".")
    for bad in [
        _flip(cursor, 3),
        f"{body}.{_flip(signature, 0)}",
        body,
        "garbage",
        "a.b.c",
        "%%%.***",
        "",
        "x" * 1024,
        "\u00e9t\u00e9.\u00e9",
    ]:
        response = await client.get(
            "/v1/notes", params={"limit": 1, "cursor": bad}, headers=headers
        )
        if bad == "":
            assert response.status_code == 200  # an empty cursor is the first page
            continue
        assert response.status_code == 400, bad
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith(":invalid-cursor")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_a_forged_cursor_without_a_valid_signature_gets_400(
    client: httpx.AsyncClient,
) -> None:
    """A client that writes its own payload (the real binding, another position) gets no page,
    whatever it puts where the signature goes."""
    headers = await api_key()
    cursor = await _a_cursor(client, headers)
    body, signature = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["p"][1] = str(uuid.UUID(int=0))  # a position of the client's choosing
    forged = _b64(json.dumps(payload, separators=(",", ":")).encode())
    for bad in [f"{forged}.", f"{forged}.{signature}", f"{forged}.{_b64(b'x' * 16)}"]:
        response = await client.get(
            "/v1/notes", params={"limit": 1, "cursor": bad}, headers=headers
        )
        assert response.status_code == 400, (bad, response.text)
        assert "not issued by this service" in response.json()["detail"]


@pytest.mark.parametrize("sort", SORTS)
async def test_notes_with_the_same_time_are_paged_by_id(
    client: httpx.AsyncClient, sort: str
) -> None:
    """Every note has the same timestamps: only the id orders them, on every page boundary."""
    owner_id, headers = await owner_with_key()
    notes = [await insert_note(owner_id, created_at=BASE, updated_at=BASE) for _ in range(7)]
    expected = sorted((str(n.id) for n in notes), key=uuid.UUID, reverse=sort.startswith("-"))
    assert await walk(client, headers, {"sort": sort, "limit": 2}) == expected


async def test_cursor_is_bound_to_its_sort_filters_and_owner(client: httpx.AsyncClient) -> None:
    headers = await api_key("alice")
    cursor = await _a_cursor(client, headers)
    for name, value in [("sort", "created_at"), ("pinned", "true"), ("archived", "true")]:
        response = await client.get(
            "/v1/notes", params={"limit": 1, "cursor": cursor, name: value}, headers=headers
        )
        assert response.status_code == 400, name
        assert "different query" in response.json()["detail"]
    bob = await api_key("bob")
    response = await client.get("/v1/notes", params={"cursor": cursor}, headers=bob)
    assert response.status_code == 400


async def test_link_header_points_at_the_next_page(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    for i in range(3):
        await create_note(client, headers, title=f"n{i}")
    first = await client.get(
        "/v1/notes", params={"limit": 2, "sort": "created_at"}, headers=headers
    )
    link = first.headers["link"]
    url = link[link.index("<") + 1 : link.index(">")]
    second = (await client.get(url, headers=headers)).json()
    assert [n["title"] for n in first.json()["items"]] == ["n0", "n1"]
    assert [n["title"] for n in second["items"]] == ["n2"]
    assert second["next_cursor"] is None


async def test_tag_filters_combine_with_and(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    await create_note(client, headers, title="both", tags=["home", "todo"])
    await create_note(client, headers, title="home only", tags=["home"])
    await create_note(client, headers, title="none")

    async def titles(*tags: str) -> list[str]:
        params = {"tag": list(tags), "sort": "created_at"}
        page = (await client.get("/v1/notes", params=params, headers=headers)).json()
        return [item["title"] for item in page["items"]]

    assert await titles("home") == ["both", "home only"]
    assert await titles("home", "todo") == ["both"]
    assert await titles(" HOME ", "Todo", "todo") == ["both"]  # normalised like stored tags
    assert await titles("work") == []
    page = (await client.get("/v1/notes", params={"tag": "todo"}, headers=headers)).json()
    assert page["items"][0]["tags"] == ["home", "todo"]


async def test_another_owners_tag_matches_nothing(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    await create_note(client, alice, title="secret", tags=["shared"])
    page = (await client.get("/v1/notes", params={"tag": "shared"}, headers=bob)).json()
    assert page["items"] == []


@pytest.mark.parametrize("tag", ["", "has space", "a,b", "x" * 51, "nul\x00"])
async def test_bad_tag_filters_get_422(client: httpx.AsyncClient, tag: str) -> None:
    for path, params in (("/v1/notes", {}), ("/v1/search", {"q": "x"})):
        response = await client.get(path, params=params | {"tag": tag}, headers=await api_key())
        assert response.status_code == 422, path
        assert response.json()["errors"][0]["loc"] == ["query", "tag", 0]


async def test_the_link_of_a_later_page_keeps_the_filters_and_replaces_the_cursor(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    for i in range(5):
        await create_note(client, headers, title=f"n{i}", tags=["a&b", "é"])
    params: dict[str, Any] = {"limit": 2, "sort": "created_at", "tag": ["a&b", "é"]}
    first = await client.get("/v1/notes", params=params, headers=headers)
    second = await client.get(
        "/v1/notes", params={**params, "cursor": first.json()["next_cursor"]}, headers=headers
    )
    link = second.headers["link"]
    url = httpx.URL(link[link.index("<") + 1 : link.index(">")])
    assert url.path == "/v1/notes"
    assert url.params.get_list("tag") == ["a&b", "é"]
    assert url.params.get_list("cursor") == [second.json()["next_cursor"]]
    third = (await client.get(str(url), headers=headers)).json()
    assert [n["title"] for n in third["items"]] == ["n4"]


async def test_an_unencoded_plus_in_updated_after_gets_a_hint(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    raw = await client.get("/v1/notes?updated_after=2026-01-01T10:00:00+02:00", headers=headers)
    assert raw.status_code == 422
    (error,) = raw.json()["errors"]
    assert error["loc"] == ["query", "updated_after"]
    assert "%2B" in error["msg"]
    encoded = await client.get(
        "/v1/notes?updated_after=2026-01-01T10:00:00%2B02:00", headers=headers
    )
    assert encoded.status_code == 200
