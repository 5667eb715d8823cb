"""Search in every language (SPEC §9): accents, CJK, prefixes, emoji, typos in bodies, and
exclusions that hold in every mode, over a small multilingual corpus."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise import connections

from tests.support.factories import api_key, owner_with_key, search, sql

pytestmark = pytest.mark.i18n

CORPUS = [
    ("Café de Flore", "Un café crème et un croissant, boulevard Saint-Germain."),
    ("Dessert", "La crème brûlée de ma grand-mère, à l'école le dimanche."),
    ("Voyage à la Réunion", "Randonnée au Piton de la Fournaise."),
    ("Umzug", "Neue Adresse: Goethestraße 12, eine ruhige Straße. Die Überweisung ist erledigt."),
    ("Einkaufsliste", "Äpfel, Käse und Brot. Die Häuser am Markt sind schön."),
    ("Viaje", "Salimos mañana temprano hacia Sevilla."),
    ("京都旅行", "清水寺と金閣寺を見に行く。たこ焼きも食べたい。"),
    ("数据迁移会议", "讨论数据库的备份方案。"),
    ("会议记录", "下周的会议改到周三。"),
    ("주간 회의록", "다음 회의는 목요일입니다."),
    ("Pizza night", "Friday 🍕 with friends, then a movie 🎬"),
    ("Learning", "Notes on programming in Rust and PostgreSQL configuration."),
    ("Morning routine", "Running in the park before work."),
    ("Finance", "The quarterly budget review for the conference in March."),
    ("Recipe: pancakes", "Flour, eggs, milk and a pinch of salt."),
    ("Recipe: pancakes without dairy", "Flour, eggs, oat drink."),
    ("Coffee beans", "A cafe near the station sells good beans."),
]


async def _titles(
    client: httpx.AsyncClient, headers: dict[str, str], q: str, **params: Any
) -> list[str]:
    page = await search(client, headers, q=q, **params)
    return [hit["title"] for hit in page["items"]]


@pytest.fixture
async def corpus(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await api_key()
    notes = [{"title": title, "body": body} for title, body in CORPUS]
    response = await client.post("/v1/notes/batch", json={"notes": notes}, headers=headers)
    assert response.status_code == 201, response.text
    return headers


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("cafe", {"Café de Flore", "Coffee beans"}),
        ("CAFÉ", {"Café de Flore", "Coffee beans"}),
        ("creme brulee", {"Dessert"}),
        ("crème brûlée", {"Dessert"}),
        ("ecole", {"Dessert"}),
        ("reunion", {"Voyage à la Réunion"}),
        ("Straße", {"Umzug"}),
        ("Strasse", {"Umzug"}),
        ("goethestrasse", {"Umzug"}),
        ("Ueberweisung", {"Umzug"}),
        ("Uberweisung", {"Umzug"}),
        ("Kase", {"Einkaufsliste"}),
        ("Apfel", {"Einkaufsliste"}),
        ("Haus", {"Einkaufsliste"}),
        ("manana", {"Viaje"}),
        ("mañana", {"Viaje"}),
    ],
)
async def test_accents_fold_both_ways(
    client: httpx.AsyncClient, corpus: dict[str, str], q: str, expected: set[str]
) -> None:
    page = await search(client, corpus, q=q)
    assert {hit["title"] for hit in page["items"]} == expected
    assert {hit["match"] for hit in page["items"]} == {"text"}


async def test_an_accent_free_spelling_in_a_note_is_found_by_the_accented_query(
    client: httpx.AsyncClient,
) -> None:
    headers = await api_key()
    for title, body in [("Bank", "Ueberweisung an die Bank"), ("Gift", "Kase for Grandpa")]:
        response = await client.post(
            "/v1/notes", json={"title": title, "body": body}, headers=headers
        )
        assert response.status_code == 201
    assert await _titles(client, headers, "Überweisung") == ["Bank"]
    assert await _titles(client, headers, "Käse") == ["Gift"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("京都", {"京都旅行"}),
        ("たこ焼き", {"京都旅行"}),
        ("金閣寺", {"京都旅行"}),
        ("数据库", {"数据迁移会议"}),
        ("会议", {"数据迁移会议", "会议记录"}),
        ("회의", {"주간 회의록"}),
        ("목요일", {"주간 회의록"}),
        ("京", {"京都旅行"}),
    ],
)
async def test_cjk_text_is_found_inside_longer_runs(
    client: httpx.AsyncClient, corpus: dict[str, str], q: str, expected: set[str]
) -> None:
    page = await search(client, corpus, q=q)
    assert {hit["title"] for hit in page["items"]} == expected
    assert {hit["match"] for hit in page["items"]} == {"text"}  # not a title-similarity guess


async def test_cjk_characters_apart_are_not_a_match(
    client: httpx.AsyncClient, corpus: dict[str, str]
) -> None:
    # 数 and 库 are both in 数据迁移会议's note, but never as 数库; 都京 is 京都 backwards.
    assert await _titles(client, corpus, "数库") == []
    assert await _titles(client, corpus, "都京") == []


async def test_a_cjk_title_hit_ranks_above_a_body_hit(
    client: httpx.AsyncClient, corpus: dict[str, str]
) -> None:
    titles = await _titles(client, corpus, "会议")
    assert titles[0] == "会议记录" or titles[0] == "数据迁移会议"
    page = await search(client, corpus, q="会议")
    assert all(hit["rank"] > 0 for hit in page["items"])


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("prog*", {"Learning"}),
        ("postgres*", {"Learning"}),
        ("conf*", {"Learning", "Finance"}),
        ("京都*", {"京都旅行"}),
    ],
)
async def test_a_word_ending_in_a_star_is_a_prefix(
    client: httpx.AsyncClient, corpus: dict[str, str], q: str, expected: set[str]
) -> None:
    page = await search(client, corpus, q=q)
    assert {hit["title"] for hit in page["items"]} == expected
    assert {hit["match"] for hit in page["items"]} == {"text"}


async def test_emoji_are_words(client: httpx.AsyncClient, corpus: dict[str, str]) -> None:
    assert await _titles(client, corpus, "🍕") == ["Pizza night"]
    assert await _titles(client, corpus, "🎬 friends") == ["Pizza night"]
    assert await _titles(client, corpus, "🚀") == []


async def test_english_stems_and_title_weight_still_hold(
    client: httpx.AsyncClient, corpus: dict[str, str]
) -> None:
    assert await _titles(client, corpus, "runs") == ["Morning routine"]
    headers = await api_key("bob")
    for title, body in [("Notes", "postgres in the body"), ("Postgres", "in the title")]:
        await client.post("/v1/notes", json={"title": title, "body": body}, headers=headers)
    assert await _titles(client, headers, "postgres") == ["Postgres", "Notes"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("buget", "Finance"),
        ("conferense", "Finance"),
        ("quartely buget", "Finance"),
        ("configuraton", "Learning"),
        ("croisant", "Café de Flore"),
    ],
)
async def test_a_typo_in_a_body_word_falls_back_to_a_fuzzy_hit(
    client: httpx.AsyncClient, corpus: dict[str, str], q: str, expected: str
) -> None:
    page = await search(client, corpus, q=q)
    assert page["items"], q
    assert page["items"][0]["title"] == expected
    assert {hit["match"] for hit in page["items"]} == {"fuzzy"}
    assert (await search(client, corpus, q=q, fuzzy="true"))["items"][0]["title"] == expected


async def test_fuzzy_mode_says_which_hits_match_the_text(
    client: httpx.AsyncClient, corpus: dict[str, str]
) -> None:
    page = await search(client, corpus, q="pancakes", fuzzy="true")
    how = {hit["title"]: hit["match"] for hit in page["items"]}
    assert how["Recipe: pancakes"] == "text"
    page = await search(client, corpus, q="pankakes", fuzzy="true")
    assert {hit["match"] for hit in page["items"]} == {"fuzzy"}
    assert "Recipe: pancakes" in {hit["title"] for hit in page["items"]}


@pytest.mark.parametrize(
    "params",
    [
        {"q": "pancakes -milk"},
        {"q": "pancakes -milk", "fuzzy": "true"},
        {"q": "pankakes -milk"},  # nothing matches as text: the fallback keeps the exclusion
        {"q": "pankakes -milk", "fuzzy": "true"},
        {"q": 'pankakes -"milk and"', "fuzzy": "true"},
    ],
)
async def test_an_exclusion_holds_in_every_mode(
    client: httpx.AsyncClient, corpus: dict[str, str], params: dict[str, str]
) -> None:
    titles = await _titles(client, corpus, **params)
    assert titles == ["Recipe: pancakes without dairy"]


async def test_every_hit_says_how_it_matched_in_the_openapi_document(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["SearchHit"]
    assert schema["properties"]["match"]["enum"] == ["text", "fuzzy"]
    assert "match" in schema["required"]


@pytest.mark.parametrize("replica", [True, False], ids=["replication-role", "disable-triggers"])
async def test_the_migration_rebuilds_old_documents_without_touching_the_feed(
    client: httpx.AsyncClient, corpus: dict[str, str], replica: bool
) -> None:
    migration = importlib.import_module("migrations.models.9_20261204160000_search_every_language")
    # The documents as migration 2's generated column made them: unfolded, no words.
    await sql(
        "UPDATE notes SET search = setweight(to_tsvector('english', title), 'A')"
        " || setweight(to_tsvector('english', body), 'B')"
    )
    await sql("TRUNCATE search_vocabulary")
    assert await _titles(client, corpus, "京都") == []
    assert await _titles(client, corpus, "manana") == []
    await sql("SELECT feed_sequence(id) FROM owners")  # the UPDATE above, positioned now
    feed = "SELECT note_id, tick, seq FROM feed ORDER BY note_id"
    before = await sql(feed)
    rebuilt = await migration.rebuild(connections.get("default"), batch=5, replica=replica)
    assert rebuilt == len(CORPUS)
    assert await _titles(client, corpus, "京都") == ["京都旅行"]
    assert await _titles(client, corpus, "manana") == ["Viaje"]
    assert await sql(feed) == before  # no change of any note: the feed has nothing new
    assert await _titles(client, corpus, "buget") == ["Finance"]  # the vocabulary is back
    disabled = (
        "SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 'notes'::regclass AND tgenabled = 'D'"
    )
    assert await sql(disabled) == [{"n": 0}]


ODD_QUERIES = ["*", "**", "-", "or", "prog**", "'", "\\", "京*", "🍕*", '"unterminated', "-*"]


@pytest.mark.parametrize("q", [*ODD_QUERIES, "a' or 'b", "数'据"])
@pytest.mark.parametrize("fuzzy", ["false", "true"])
async def test_odd_query_syntax_is_answered(
    client: httpx.AsyncClient, corpus: dict[str, str], q: str, fuzzy: str
) -> None:
    response = await client.get("/v1/search", params={"q": q, "fuzzy": fuzzy}, headers=corpus)
    assert response.status_code == 200, response.text
    assert all(hit["match"] in ("text", "fuzzy") for hit in response.json()["items"])


async def test_writers_adding_the_same_new_words_neither_wait_nor_deadlock(
    client: httpx.AsyncClient, database_url: str
) -> None:
    # Two transactions each add two brand-new words, in opposite orders: each would wait for
    # the other's uncommitted word. Neither may fail; the words end up in the vocabulary.
    owner_id, _ = await owner_with_key()
    insert = """INSERT INTO notes (id, owner_id, title, body, pinned, archived, version,
                                   created_at, updated_at)
                VALUES (gen_random_uuid(), $1, 'vocabulary', $2, false, false, 1, now(), now())"""
    first, second = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        one, two = first.transaction(), second.transaction()
        await one.start()
        await two.start()
        await first.execute(insert, owner_id, "quuxalpha")
        await second.execute(insert, owner_id, "quuxbeta")
        await asyncio.gather(
            first.execute(insert, owner_id, "quuxbeta"),
            second.execute(insert, owner_id, "quuxalpha"),
        )
        await one.commit()
        await two.commit()
    finally:
        await first.close()
        await second.close()
    words = await sql("SELECT word FROM search_vocabulary WHERE word LIKE 'quux%' ORDER BY word")
    assert words == [{"word": "quuxalpha"}, {"word": "quuxbeta"}]
    assert await sql("SELECT count(*) AS n FROM notes WHERE title = 'vocabulary'") == [{"n": 4}]


async def test_a_body_of_one_long_cjk_run_is_written_and_found(client: httpx.AsyncClient) -> None:
    # 100,000 characters without a break: folding it must stay linear in its length (it once
    # took a minute for this body, past the statement timeout).
    headers = await api_key()
    body = "京都大学" + "数据迁移会议" * 16_665 + "会社"
    response = await client.post("/v1/notes", json={"title": "长文", "body": body}, headers=headers)
    assert response.status_code == 201, response.text
    assert await _titles(client, headers, "京都大学") == ["长文"]
    assert await _titles(client, headers, "会社") == ["长文"]
