from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, BeforeValidator

from notes_service import cursors as positions
from notes_service.accounts.auth import Principal, authenticate
from notes_service.contract import NotePage, UtcDatetime, clean_tag
from notes_service.cursors import CursorCodec
from notes_service.errors import ValidationFailed
from notes_service.queries.repository import NoteFilter, NoteQueries
from notes_service.web.deps import CurrentOwner, Cursors
from notes_service.web.hot import HotHandler, parse_query

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
    queries: NoteQueries = request.app.state.note_queries
    return queries


Queries = Annotated[NoteQueries, Depends(note_queries)]


def page_response(request: Request, items: str, next_cursor: str | None) -> Response:
    """The page around its items' JSON (built by PostgreSQL, passed through as it is), with
    `Link: rel="next"`; the route's `response_model` still documents it in the OpenAPI.
    The link is this request's path and query with `cursor` replaced, built from the parsed
    query rather than through `request.url` (which parses the whole URL again: a tenth of a
    list request)."""
    headers = {}
    if next_cursor is not None:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        query = urlencode([*kept, ("cursor", next_cursor)])
        path = request.scope.get("root_path", "") + request.scope["path"]
        headers["Link"] = f'<{path}?{query}>; rel="next"'
    body = b'{"items":%s,"next_cursor":%s}' % (items.encode(), orjson.dumps(next_cursor))
    return Response(body, media_type="application/json", headers=headers)


# `…T10:00:00+02:00` in a query string arrives as `…T10:00:00 02:00`: `+` means a space there.
_UNENCODED_PLUS = re.compile(r"\d \d{2}(:?\d{2})?$")


def _hint_unencoded_plus(value: object) -> object:
    if isinstance(value, str) and _UNENCODED_PLUS.search(value):
        raise ValueError(
            "a `+` in a query string means a space: percent-encode the offset's `+` as %2B "
            "(…T10:00:00%2B02:00), or give the time in UTC with `Z`"
        )
    return value


class ListQuery(BaseModel):
    """`GET /v1/notes`'s query parameters: FastAPI's query model, and what the hot lane
    validates the same values with."""

    tag: TagParam = []
    pinned: bool | None = None
    archived: bool = False
    trashed: bool = False
    updated_after: Annotated[UtcDatetime | None, BeforeValidator(_hint_unencoded_plus)] = None
    sort: Sort = "-updated_at"
    limit: Limit = 20
    cursor: Cursor = None


async def list_response(
    request: Request, owner: Principal, queries: NoteQueries, cursors: CursorCodec, query: ListQuery
) -> Response:
    filters = NoteFilter(
        tags=clean_tag_filter(query.tag),
        pinned=query.pinned,
        archived=query.archived,
        trashed=query.trashed,
        updated_after=query.updated_after,
    )
    binding = positions.list_binding(cursors, owner.owner_id, query.sort, filters)
    after = positions.decode_list(cursors, query.cursor, binding) if query.cursor else None
    page = await queries.list_page(owner.owner_id, filters, query.sort, query.limit, after)
    next_cursor = None
    if page["more"]:
        next_cursor = positions.encode_list(
            cursors, binding, page["last_sort"], page["last_id"], query.sort, after
        )
    return page_response(request, page["items"], next_cursor)


@router.get("/notes", response_model=NotePage)
async def list_notes(
    request: Request,
    owner: CurrentOwner,
    queries: Queries,
    cursors: Cursors,
    query: Annotated[ListQuery, Query()],
) -> Response:
    return await list_response(request, owner, queries, cursors, query)


Model = TypeVar("Model", bound=BaseModel)
QueryResponder = Callable[
    [Request, Principal, NoteQueries, CursorCodec, Model], Awaitable[Response]
]


def hot_query_handler(model: type[Model], respond: QueryResponder[Model]) -> HotHandler:
    """A read route in the hot lane (notes_service/web/hot.py): its query model parsed as
    FastAPI parses it, then the endpoint's own `respond` (None leaves an invalid query to
    FastAPI)."""

    async def handler(request: Request) -> Response | None:
        query = parse_query(request, model)
        if query is None:
            return None
        owner = await authenticate(request)
        state = request.app.state
        return await respond(request, owner, state.note_queries, state.cursor_codec, query)

    return handler


# Endpoint -> its form in the hot lane (notes_service/web/hot.py).
HOT_HANDLERS: dict[Callable[..., Any], HotHandler] = {
    list_notes: hot_query_handler(ListQuery, list_response)
}
