from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from notes_service.contract import NotePage, UtcDatetime, clean_tag
from notes_service.errors import InvalidCursor, ValidationFailed
from notes_service.queries.repository import NoteFilter, NoteQueries, Position
from notes_service.web.deps import CurrentOwner, Cursors

router = APIRouter(prefix="/v1", tags=["queries"])

Sort = Literal["-updated_at", "updated_at", "-created_at", "created_at"]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=1024)]
TagParam = Annotated[list[str], Query(max_length=20)]


def clean_tag_filter(tags: list[str]) -> tuple[str, ...]:
    """Normalise `tag` query values exactly as the write side stores tags."""
    errors, names = [], set()
    for index, raw in enumerate(tags):
        try:
            names.add(clean_tag(raw))
        except ValueError as exc:
            errors.append({"loc": ["query", "tag", index], "msg": str(exc)})
    if errors:
        raise ValidationFailed(errors)
    return tuple(sorted(names))


# `async def`, or FastAPI would run these trivial dependencies in its thread pool.
async def note_queries(request: Request) -> NoteQueries:
    state = request.app.state
    return NoteQueries(state.read_db, state.settings.search_rank_limit)


Queries = Annotated[NoteQueries, Depends(note_queries)]


def page_response(request: Request, items: str, next_cursor: str | None) -> Response:
    """The page around its items' JSON (built by PostgreSQL, passed through as it is), with
    `Link: rel="next"`; the route's `response_model` still documents it in the OpenAPI."""
    headers = {}
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    body = f'{{"items":{items},"next_cursor":{json.dumps(next_cursor)}}}'
    return Response(body, media_type="application/json", headers=headers)


def cursor_time(raw: Any) -> datetime:
    # A cursor signed with a known (development) secret can carry any text: only an aware time
    # that fits in UTC may reach the driver (else a naive-time error or an OverflowError).
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("naive time")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


def _decode_position(raw: list[Any]) -> Position:
    try:
        sort_value, note_id, as_of = raw
        return Position(
            cursor_time(sort_value),
            uuid.UUID(note_id),
            cursor_time(as_of) if as_of is not None else None,
        )
    except (TypeError, ValueError, AttributeError):
        raise InvalidCursor("The cursor is malformed") from None


def _encode_position(
    sort_value: datetime, note_id: uuid.UUID, sort: str, previous: Position | None
) -> list[Any]:
    as_of = None
    if sort.endswith("updated_at"):
        as_of = previous.as_of if previous and previous.as_of else datetime.now(UTC)
    return [sort_value.isoformat(), str(note_id), as_of and as_of.isoformat()]


@router.get("/notes", response_model=NotePage)
async def list_notes(
    request: Request,
    owner: CurrentOwner,
    queries: Queries,
    cursors: Cursors,
    tag: TagParam = [],  # noqa: B006 - FastAPI copies defaults per request
    pinned: bool | None = None,
    archived: bool = False,
    trashed: bool = False,
    updated_after: UtcDatetime | None = None,
    sort: Sort = "-updated_at",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    filters = NoteFilter(
        tags=clean_tag_filter(tag),
        pinned=pinned,
        archived=archived,
        trashed=trashed,
        updated_after=updated_after,
    )
    binding = cursors.binding(route="notes", owner=owner.owner_id, sort=sort, filters=filters)
    after = _decode_position(cursors.decode(cursor, binding)) if cursor else None
    page = await queries.list_page(owner.owner_id, filters, sort, limit, after)
    next_cursor = None
    if page["more"]:
        position = _encode_position(page["last_sort"], page["last_id"], sort, after)
        next_cursor = cursors.encode(binding, position)
    return page_response(request, page["items"], next_cursor)
