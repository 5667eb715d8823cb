from __future__ import annotations

import html
import math
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from notes_service.deps import CurrentOwner, Cursors
from notes_service.notes.schemas import NoteOut
from notes_service.problems import InvalidCursor, ValidationFailed
from notes_service.queries.router import (
    Cursor,
    Limit,
    Queries,
    TagParam,
    clean_tag_filter,
    page_response,
)
from notes_service.queries.sql import MARK_START, MARK_STOP

router = APIRouter(prefix="/v1", tags=["queries"])

Mode = Literal["fts", "fuzzy"]


class SearchHit(NoteOut):
    rank: float
    snippet: str


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None


def safe_snippet(raw: str) -> str:
    """HTML-escape the note text; only the highlight markers become raw <mark> tags."""
    return html.escape(raw).replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")


def _decode(raw: list[Any]) -> tuple[Mode, float, uuid.UUID]:
    try:
        mode, rank, note_id = raw
        if mode not in ("fts", "fuzzy"):
            raise ValueError(mode)
        # Only a finite JSON number: a NaN or infinite rank has no place in the keyset.
        if type(rank) not in (int, float) or not math.isfinite(rank):
            raise ValueError(rank)
        return mode, float(rank), uuid.UUID(note_id)
    except (TypeError, ValueError, AttributeError):
        raise InvalidCursor("The cursor is malformed") from None


@router.get("/search", response_model=SearchPage)
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
    if cursor:
        mode, rank, note_id = _decode(cursors.decode(cursor, binding))
        after = (rank, note_id)
    rows = await queries.search(owner.owner_id, q, tags, mode, limit + 1, after)
    if not rows and mode == "fts" and after is None:
        mode = "fuzzy"  # nothing matched as words: tolerate typos in titles instead
        rows = await queries.search(owner.owner_id, q, tags, mode, limit + 1, None)
    items = [
        SearchHit.model_validate(dict(row) | {"snippet": safe_snippet(row["snippet"])})
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = cursors.encode(binding, [mode, last.rank, str(last.id)])
    return page_response(request, SearchPage(items=items, next_cursor=next_cursor), next_cursor)
