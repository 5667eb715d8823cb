from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from notes_service.contract import NoteOut
from notes_service.errors import InvalidCursor, ValidationFailed
from notes_service.queries.repository import SearchPosition
from notes_service.queries.router import (
    Cursor,
    Limit,
    Queries,
    TagParam,
    clean_tag_filter,
    cursor_time,
    page_response,
)
from notes_service.web.deps import CurrentOwner, Cursors

router = APIRouter(prefix="/v1", tags=["queries"])

Mode = Literal["fts", "fuzzy"]

SEARCH_DESCRIPTION = """Full-text search (`websearch_to_tsquery` syntax: `"a phrase"`, `-word`,
`or`) over title (weighted higher) and body; `fuzzy=true`, or no word match at all, switches to
trigram similarity on the title. Hits are ordered by `rank`, then id.

**Broad searches:** only the newest `NOTES_SEARCH_RANK_LIMIT` matches (default 1,000; newest by
`updated_at`, then id) are ranked and returned; older matches of such a query are not, so
narrow the query (more words, a phrase, a `tag`) to reach them. A walk over several pages keeps
the candidate set of its first page: notes updated after the first page was served are left
out of the rest of the walk, so no note appears twice."""


class SearchHit(NoteOut):
    rank: float
    snippet: str


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None


def _decode(raw: list[Any]) -> tuple[Mode, SearchPosition]:
    try:
        # Cursors from before the rank limit carry only [mode, rank, id].
        mode, rank, note_id, as_of, floor = raw if len(raw) == 5 else [*raw, None, None]
        if mode not in ("fts", "fuzzy"):
            raise ValueError(mode)
        # Only a finite JSON number: a NaN or infinite rank has no place in the keyset.
        if type(rank) not in (int, float) or not math.isfinite(rank):
            raise ValueError(rank)
        position = SearchPosition(
            float(rank),
            uuid.UUID(note_id),
            cursor_time(as_of) if as_of else None,
            (cursor_time(floor[0]), uuid.UUID(floor[1])) if floor else None,
        )
        return mode, position
    except (TypeError, ValueError, IndexError, AttributeError):
        raise InvalidCursor("The cursor is malformed") from None


@router.get("/search", response_model=SearchPage, description=SEARCH_DESCRIPTION)
async def search(
    request: Request,
    owner: CurrentOwner,
    queries: Queries,
    cursors: Cursors,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    tag: TagParam = [],  # noqa: B006 - FastAPI copies defaults per request
    fuzzy: bool = False,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    if "\x00" in q or not q.strip():
        raise ValidationFailed([{"loc": ["query", "q"], "msg": "must contain text, and no NUL"}])
    tags = clean_tag_filter(tag)
    binding = cursors.binding(route="search", owner=owner.owner_id, q=q, tags=tags, fuzzy=fuzzy)
    mode: Mode = "fuzzy" if fuzzy else "fts"
    after = None
    # Taken before the first page is read: a note updated after it leaves the walk.
    as_of: datetime | None = datetime.now(UTC)
    if cursor:
        mode, after = _decode(cursors.decode(cursor, binding))
    page = await queries.search_page(owner.owner_id, q, tags, mode, limit, after)
    if page["candidates"] == 0 and mode == "fts" and after is None:
        mode = "fuzzy"  # nothing matched as words: tolerate typos in titles instead
        page = await queries.search_page(owner.owner_id, q, tags, mode, limit, None)
    next_cursor = None
    if page["more"]:
        if after is not None:
            as_of, floor = after.as_of, after.floor
        else:
            cut = page["candidates"] >= queries.search_rank_limit
            floor = (page["oldest_ts"], page["oldest_id"]) if cut else None
        position = [
            mode,
            page["last_rank"],
            str(page["last_id"]),
            as_of and as_of.isoformat(),
            floor and [floor[0].isoformat(), str(floor[1])],
        ]
        next_cursor = cursors.encode(binding, position)
    return page_response(request, page["items"], next_cursor)
