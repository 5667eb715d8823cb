from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from notes_service import cursors as positions
from notes_service.accounts.auth import Principal
from notes_service.contract import NoteOut
from notes_service.cursors import CursorCodec
from notes_service.errors import ValidationFailed
from notes_service.queries.repository import NoteQueries
from notes_service.queries.router import (
    Cursor,
    Limit,
    Queries,
    TagParam,
    clean_tag_filter,
    hot_query_handler,
    page_response,
)
from notes_service.web.deps import CurrentOwner, Cursors
from notes_service.web.hot import HotHandler

router = APIRouter(prefix="/v1", tags=["queries"])

Mode = positions.SearchMode

SEARCH_DESCRIPTION = """Full-text search (`websearch_to_tsquery` syntax: `"a phrase"`, `-word`,
`or`, and `prog*` for a prefix) over title (weighted higher) and body, in every language:
accents fold (`cafe` finds `café`), two or more Chinese, Japanese or Korean characters find
that text anywhere, emoji and symbols are words. `fuzzy=true`, or no match at all, switches to
typo-tolerant matching: trigram similarity on the title, or words of the note near the query's
words (`buget` finds `budget`). Each hit's `match` says how it matched (`text` or `fuzzy`); a
`-word` exclusion holds in every mode. Hits are ordered by `rank`, then id.

**Broad searches:** only the newest `NOTES_SEARCH_RANK_LIMIT` matches (default 1,000; newest by
`updated_at`, then id) are ranked and returned; older matches of such a query are not, so
narrow the query (more words, a phrase, a `tag`) to reach them. A walk over several pages keeps
the candidate set of its first page: notes updated after the first page was served are left
out of the rest of the walk, so no note appears twice."""


class SearchHit(NoteOut):
    rank: float
    snippet: str
    match: Literal["text", "fuzzy"]


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None


class SearchQuery(BaseModel):
    """`GET /v1/search`'s query parameters: FastAPI's query model, and the hot lane's."""

    q: Annotated[str, Query(min_length=1, max_length=500)]
    tag: TagParam = []
    fuzzy: bool = False
    limit: Limit = 20
    cursor: Cursor = None


async def search_response(
    request: Request,
    owner: Principal,
    queries: NoteQueries,
    cursors: CursorCodec,
    query: SearchQuery,
) -> Response:
    q = query.q
    if "\x00" in q or not q.strip():
        raise ValidationFailed([{"loc": ["query", "q"], "msg": "must contain text, and no NUL"}])
    tags = clean_tag_filter(query.tag)
    binding = positions.search_binding(cursors, owner.owner_id, q, tags, query.fuzzy)
    mode: Mode = "fuzzy" if query.fuzzy else "fts"
    after = None
    # Taken before the first page is read: a note updated after it leaves the walk.
    as_of: datetime | None = datetime.now(UTC)
    if query.cursor:
        mode, after = positions.decode_search(cursors, query.cursor, binding)
    page = await queries.search_page(owner.owner_id, q, tags, mode, query.limit, after)
    if page["candidates"] == 0 and mode == "fts" and after is None:
        mode = "fuzzy"  # nothing matched as words: tolerate typos (exclusions still hold)
        page = await queries.search_page(owner.owner_id, q, tags, mode, query.limit, None)
    next_cursor = None
    if page["more"]:
        if after is not None:
            as_of, floor = after.as_of, after.floor
        else:
            cut = page["candidates"] >= queries.search_rank_limit
            floor = (page["oldest_ts"], page["oldest_id"]) if cut else None
        next_cursor = positions.encode_search(
            cursors, binding, mode, page["last_rank"], page["last_id"], as_of, floor
        )
    return page_response(request, page["items"], next_cursor)


@router.get("/search", response_model=SearchPage, description=SEARCH_DESCRIPTION)
async def search(
    request: Request,
    owner: CurrentOwner,
    queries: Queries,
    cursors: Cursors,
    query: Annotated[SearchQuery, Query()],
) -> Response:
    return await search_response(request, owner, queries, cursors, query)


# Endpoint -> its form in the hot lane (notes_service/web/hot.py).
HOT_HANDLERS: dict[Callable[..., Any], HotHandler] = {
    search: hot_query_handler(SearchQuery, search_response)
}
