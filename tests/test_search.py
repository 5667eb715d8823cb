from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from notes_service.queries.repository import NoteQueries
from tests.support.factories import api_key, create_note, insert_note, owner_with_key, search
from tests.support.pages import items, pages

CORPUS = [
    ("Postgres tuning", "shared buffers and work mem for postgres servers"),
    ("Garden plan", "tomatoes, basil and a note about postgres in the shed"),
    ("Reading list", "a book on distributed systems"),
    ("Recipe: tomato soup", "tomatoes, onions, stock"),
    ("Travel", "tickets to Lisbon; postgres conference"),
]


@pytest.fixture
async def corpus(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await api_key()
    for title, body in CORPUS:
        await create_note(client, headers, title=title, body=body)
    return headers


async def test_title_hits_rank_above_body_hits(
    client: httpx.AsyncClient, corpus: dict[str, str]
) -> None:
    page = await search(client, corpus, q="postgres")
    titles = [hit["title"] for hit in page["items"]]
    assert titles[0] == "Postgres tuning"
    assert set(titles) == {"Postgres tuning", "Garden plan", "Travel"}
    ranks = [hit["rank"] for hit in page["items"]]
    assert ranks == sorted(ranks, reverse=True)
    assert "<mark>" in page["items"][0]["snippet"]


async def test_phrase_negation_and_or(client: httpx.AsyncClient, corpus: dict[str, str]) -> None:
    async def titles(q: str) -> set[str]:
        return {hit["title"] for hit in (await search(client, corpus, q=q))["items"]}

    assert await titles('"tomato soup"') == {"Recipe: tomato soup"}
    assert await titles("tomatoes -basil") == {"Recipe: tomato soup"}
    assert await titles("lisbon or distributed") == {"Travel", "Reading list"}


async def test_a_typo_finds_its_note_by_trigram(
    client: httpx.AsyncClient, corpus: dict[str, str]
) -> None:
    page = await search(client, corpus, q="Postgers tunnig")
    assert page["items"][0]["title"] == "Postgres tuning"
    fuzzy = await search(client, corpus, q="gardn", fuzzy="true")
    assert [hit["title"] for hit in fuzzy["items"]] == ["Garden plan"]


async def test_snippets_escape_note_text(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    payload = '<script>alert("x")</script> <img src=x onerror=alert(1)> xssword'
    await create_note(client, headers, title="hostile", body=payload)
    hit = (await search(client, headers, q="xssword"))["items"][0]
    snippet = hit["snippet"]
    assert "<mark>xssword</mark>" in snippet
    unmarked = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in unmarked and ">" not in unmarked
    assert "&gt;" in unmarked  # the note's own angle brackets arrive escaped
    assert hit["body"] == payload  # the note itself is data, returned as stored


async def test_search_pages_by_rank_with_cursors(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    for i in range(7):
        await create_note(client, headers, title=f"alpha {i}", body="alpha " * i)
    seen = [
        hit["id"] for hit in await items(client, "/v1/search", headers, {"q": "alpha", "limit": 3})
    ]
    assert len(seen) == len(set(seen)) == 7


async def test_search_excludes_trash_and_other_owners(client: httpx.AsyncClient) -> None:
    alice, bob = await api_key("alice"), await api_key("bob")
    kept = await create_note(client, alice, title="zebra kept")
    gone = await create_note(client, alice, title="zebra trashed")
    await client.delete(f"/v1/notes/{gone['id']}", headers=alice)
    await create_note(client, bob, title="zebra of bob")
    page = await search(client, alice, q="zebra")
    assert [hit["id"] for hit in page["items"]] == [kept["id"]]
    assert (await search(client, bob, q="zebra kept", fuzzy="true"))["items"][0]["title"] == (
        "zebra of bob"
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "x" * 501},
        {"q": "nul\x00byte"},
        {"q": "a", "limit": "0"},
        {"q": "a", "fuzzy": "perhaps"},
    ],
)
async def test_bad_search_parameters_get_422(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get("/v1/search", params=params, headers=await api_key())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "q", ["'; DROP TABLE notes; --", "a:b", ":q", "!!!", "&|<->", "(((", "\\", "%_", "the"]
)
async def test_hostile_queries_are_answered_not_crashed(
    client: httpx.AsyncClient, corpus: dict[str, str], q: str
) -> None:
    # No note holds these words: an empty page, not every note (as a LIKE '%_%' or an
    # injected OR would give) and not an error.
    page = await search(client, corpus, q=q)
    assert page == {"items": [], "next_cursor": None}
    # Next to a real word they are still text, not syntax: exactly the notes with that word.
    page = await search(client, corpus, q=f"tomatoes or {q}")
    assert sorted(hit["title"] for hit in page["items"]) == ["Garden plan", "Recipe: tomato soup"]


async def test_search_honours_the_tag_filter(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    tagged = await create_note(client, headers, title="kiwi jam", tags=["food"])
    await create_note(client, headers, title="kiwi bird", tags=["animals"])
    page = await search(client, headers, q="kiwi", tag="FOOD")
    assert [hit["id"] for hit in page["items"]] == [tagged["id"]]
    assert page["items"][0]["tags"] == ["food"]


async def _walk(
    client: httpx.AsyncClient, headers: dict[str, str], q: str, between: Any = None
) -> list[str]:
    seen: list[str] = []
    async for response in pages(client, "/v1/search", headers, {"q": q, "limit": 2}):
        page = response.json()
        ranks = [(hit["rank"], hit["id"]) for hit in page["items"]]
        assert ranks == sorted(ranks, reverse=True)
        seen += [hit["id"] for hit in page["items"]]
        if page["next_cursor"] and between is not None:
            await between(seen)
            between = None
    return seen


@pytest.fixture
def rank_limit_5(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.state.note_queries, "search_rank_limit", 5)


async def test_a_broad_search_ranks_only_its_newest_matches(
    client: httpx.AsyncClient, rank_limit_5: None
) -> None:
    headers = await api_key()
    notes = [
        await create_note(client, headers, title=f"broad {i}", body="broad " * (i % 4))
        for i in range(12)
    ]
    newest = {note["id"] for note in notes[-5:]}
    seen = await _walk(client, headers, "broad")
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == newest


async def test_a_broad_walk_keeps_its_candidates_while_notes_change(
    client: httpx.AsyncClient, rank_limit_5: None
) -> None:
    headers = await api_key()
    notes = [
        await create_note(client, headers, title=f"broad {i}", body="broad " * (i % 3))
        for i in range(12)
    ]
    candidates = [note["id"] for note in notes[-5:]]
    touched: list[str] = []

    async def write(seen: list[str]) -> None:
        # A new, better match and an edit of a candidate not served yet: neither may show up,
        # and nothing may be served twice or pushed out of the walk.
        await create_note(client, headers, title="broad broad broad", body="broad " * 9)
        pending = next(note_id for note_id in candidates if note_id not in seen)
        await client.patch(f"/v1/notes/{pending}", json={"body": "broad"}, headers=headers)
        touched.append(pending)

    seen = await _walk(client, headers, "broad", between=write)
    assert len(seen) == len(set(seen))
    assert set(seen) == set(candidates) - set(touched)


@pytest.mark.parametrize("common", [True, False], ids=["gist-walk", "plain"])
async def test_a_broad_walk_past_many_newer_misses_serves_its_newest_matches_once(
    client: httpx.AsyncClient, rank_limit_5: None, monkeypatch: pytest.MonkeyPatch, common: bool
) -> None:
    # Both statements a first page may run (`search_sql._candidates`) serve the same notes.
    async def is_common(self: NoteQueries, q: str) -> bool:
        return common

    monkeypatch.setattr(NoteQueries, "is_common", is_common)
    owner_id, headers = await owner_with_key()
    start = datetime.now(UTC) - timedelta(hours=1)
    for i in range(4):  # older than every candidate: never served
        await insert_note(owner_id, title="broad", updated_at=start + timedelta(minutes=i))
    # Six matches share one time: the cut falls among them and is settled by id.
    tied = start + timedelta(minutes=10)
    same_time = [await insert_note(owner_id, title="broad tie", updated_at=tied) for _ in range(6)]
    newer = [
        await insert_note(owner_id, title="broad broad", updated_at=tied + timedelta(minutes=i))
        for i in range(1, 3)
    ]
    for i in range(40):
        await insert_note(owner_id, title=f"other {i}", updated_at=tied + timedelta(minutes=20 + i))
    by_id = sorted(same_time, key=lambda note: note.id, reverse=True)
    expected = {str(note.id) for note in [*newer, *by_id[:3]]}
    seen = await _walk(client, headers, "broad")
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == expected
