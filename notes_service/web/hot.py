"""The hot lane: the busiest requests served without FastAPI's routing and parameter solving.

On a list page FastAPI spent ~40% of the worker's CPU between the request middleware and the
endpoint: matching the path through its included routers, solving eight query parameters and
three dependencies, its exit stack (py-spy, `benchmarks/RESULTS.md`). This layer sits just
inside the request middleware. For a request to a hot route (a note by id, a list page, a
search, a create) it parses the parameters itself and calls the functions the FastAPI
endpoint calls.

It only answers what it recognises completely. The handler returns None for anything else (a
value FastAPI would accept in another form, an invalid value, a body that is not plain JSON),
and the request goes on to FastAPI unchanged, the body replayed. So every error and every
lenient form keeps FastAPI's answer, and the FastAPI routes stay the documented ones.
`tests/test_hot_lane.py` sends the same requests both ways and compares the answers. The rules
that hold on every route (unknown query parameters, HEAD, the concurrency limit) are the request
middleware's, outside this layer, so they hold here too.
`NOTES_HOT_LANE=false` turns the lane off.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HotHandler = Callable[[Request], Awaitable[Response | None]]
Query = TypeVar("Query", bound=BaseModel)


@functools.cache
def _list_fields(model: type[BaseModel]) -> tuple[frozenset[str], tuple[str, ...]]:
    lists = {n for n, f in model.model_fields.items() if typing.get_origin(f.annotation) is list}
    return frozenset(lists), tuple(n for n in model.model_fields if n not in lists)


# Parsed query strings: a first page's repeats request after request. Not one with a cursor,
# which is new on every page. The models are only read, so one instance serves many requests.
_PARSED: dict[tuple[type[BaseModel], bytes], BaseModel | None] = {}
_PARSED_MAX = 1024


def parse_query(request: Request, model: type[Query]) -> Query | None:
    """A route's query model from the query string, taken as FastAPI takes it (every value of a
    list field, the last of any other); None if it does not validate (FastAPI then answers)."""
    raw: bytes = request.scope.get("query_string", b"")
    if b"cursor=" in raw:
        return _parse_query(request, model)
    key = (model, raw)
    if key in _PARSED:
        return typing.cast(Query | None, _PARSED[key])
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    parsed = _PARSED[key] = _parse_query(request, model)
    return parsed


def _parse_query(request: Request, model: type[Query]) -> Query | None:
    params = request.query_params
    lists, scalars = _list_fields(model)
    values: dict[str, Any] = {name: params[name] for name in scalars if name in params}
    values |= {name: params.getlist(name) for name in lists if name in params}
    try:
        return model.model_validate(values)
    except ValidationError:
        return None


@dataclass(frozen=True, slots=True)
class HotRoute:
    route: APIRoute  # the FastAPI route it stands in for (its path, methods and metrics label)
    handler: HotHandler


def hot_routes(
    routes: Iterable[Any], handlers: Mapping[Callable[..., Any], HotHandler]
) -> list[HotRoute]:
    """The hot lane's routes: each FastAPI route whose endpoint has a handler."""
    found = [
        HotRoute(route, handlers[route.endpoint])
        for route in routes
        if isinstance(route, APIRoute) and route.endpoint in handlers
    ]
    if len(found) != len(handlers):
        raise LookupError("a hot handler's endpoint is not among the routes")
    return found


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for a body already read: the body once, then the client's own messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class HotLane:
    def __init__(self, app: ASGIApp, routes: list[HotRoute]) -> None:
        self.app = app
        self._by_method: dict[str, list[HotRoute]] = {}
        for hot in routes:
            for method in hot.route.methods or ():
                self._by_method.setdefault(method, []).append(hot)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Behind a root path the route paths no longer match `scope["path"]`: FastAPI's job.
        if scope["type"] == "http" and not scope.get("root_path"):
            for hot in self._by_method.get(scope["method"], ()):
                match = hot.route.path_regex.match(scope["path"])
                if match is not None and scope["app"].state.settings.hot_lane:
                    await self._serve(hot, match.groupdict(), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(
        self, hot: HotRoute, path_params: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        request = Request(scope, receive)
        try:
            body = await _read_body(request) if hot.route.body_field is not None else b""
            scope["route"], scope["path_params"] = hot.route, path_params
            response = await hot.handler(Request(scope, _replay(body, receive)))
        except Exception as exc:
            # The app's own handler for it, as FastAPI's exception middleware would find it;
            # anything else goes on to the request middleware, as from a FastAPI route.
            handler = _exception_handler(scope["app"].exception_handlers, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        if response is None:
            del scope["route"], scope["path_params"]
            await self.app(scope, _replay(body, receive), send)
            return
        await response(scope, receive, send)


async def _read_body(request: Request) -> bytes:
    try:
        return await request.body()
    except HTTPException:  # the request middleware's 413
        raise
    except Exception as exc:  # a client gone mid-body: what FastAPI answers
        raise HTTPException(400, "There was an error parsing the body") from exc


def _exception_handler(
    handlers: Mapping[Any, Callable[..., Any]], exc: Exception
) -> Callable[..., Any] | None:
    for kind in type(exc).__mro__:
        if kind in handlers:
            return handlers[kind]
    return None
