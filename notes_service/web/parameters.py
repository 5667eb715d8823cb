"""Unknown query parameters are refused (SPEC §8): `DELETE /v1/notes/{id}?permanently=true` must
not quietly trash the note. What each operation takes is read from the OpenAPI document, i.e.
from the routes' own declarations, so a new route is covered without an edit here. Checked by
the request middleware, before routing: the hot lane (web/hot.py) is covered too."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote_plus

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from notes_service.errors import Unauthorized, UnknownParameter

# The stream token (`POST /v1/changes/stream-tokens`) is a credential only on the stream.
STREAM_TOKEN_PARAMETER = "access_token"  # noqa: S105 - a parameter name
_CACHE_SIZE = 4096


def query_names(query_string: bytes) -> list[str]:
    """The parameter names of a query string, decoded as Starlette decodes them, in order."""
    names: list[str] = []
    for pair in query_string.decode("latin-1").split("&"):
        if pair:
            name = unquote_plus(pair.partition("=")[0], encoding="utf-8", errors="replace")
            if name not in names:
                names.append(name)
    return names


def _routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        # FastAPI includes routers lazily: look into each included router's own routes.
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is not None:
            yield from _routes(inner)
        else:
            yield route


class QueryRules:
    """(method, path) -> the query parameters its operation declares; None: no route matches (the
    router answers 404 or 405). Paths repeat (a list page, a note), so answers are cached."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], frozenset[str] | None] = {}

    def check(self, scope: Scope) -> None:
        query = scope.get("query_string", b"")
        if not query:
            return
        known = self.known(scope)
        if known is None:
            return
        unknown = [name for name in query_names(query) if name not in known]
        if not unknown:
            return
        if STREAM_TOKEN_PARAMETER in unknown and scope["path"].startswith("/v1/"):
            raise Unauthorized(
                "A stream token (`?access_token=`) is accepted only by GET /v1/changes/stream; "
                "send an API key as `Authorization: Bearer nsk_...`"
            )
        raise UnknownParameter(unknown, sorted(known))

    def known(self, scope: Scope) -> frozenset[str] | None:
        key = (scope["method"], scope["path"])
        if key not in self._known:
            if len(self._known) >= _CACHE_SIZE:
                self._known.clear()
            self._known[key] = self._lookup(scope)
        return self._known[key]

    @staticmethod
    def _lookup(scope: Scope) -> frozenset[str] | None:
        app = scope["app"]
        for route in _routes(app.router.routes):
            if route.matches(scope)[0] != Match.FULL:
                continue
            path = getattr(route, "path_format", None)
            operation: dict[str, Any] = (
                app.openapi()["paths"].get(path, {}).get(scope["method"].lower(), {})
            )
            parameters = operation.get("parameters", [])
            return frozenset(p["name"] for p in parameters if p["in"] == "query")
        return None
