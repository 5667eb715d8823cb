"""Prometheus metrics and the per-request access line, recorded by one pure ASGI middleware.

Each app has its own registry, so that building several apps in one process (tests) never
registers a metric twice. With `--workers N` each worker keeps its own numbers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notes_service.pools import PoolStats

access_logger = logging.getLogger("notes_service.access")

PoolSource = Callable[[], PoolStats | None]
UNMATCHED_ROUTE = "unmatched"  # one label for every path no route matched: bounded cardinality
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class PoolCollector(Collector):
    """Reads the pools at scrape time, so the numbers are never stale."""

    def __init__(self) -> None:
        self.sources: dict[str, PoolSource] = {}

    def collect(self) -> Iterator[Metric]:
        families = {
            "size": GaugeMetricFamily(
                "db_pool_size", "Open connections in the pool", labels=["pool"]
            ),
            "in_use": GaugeMetricFamily(
                "db_pool_connections_in_use", "Connections handed out", labels=["pool"]
            ),
            "waiters": GaugeMetricFamily(
                "db_pool_waiters", "Requests waiting to acquire a connection", labels=["pool"]
            ),
            "max_size": GaugeMetricFamily(
                "db_pool_max_size", "Configured maximum pool size", labels=["pool"]
            ),
        }
        for pool, source in self.sources.items():
            stats = source() or PoolStats(size=0, in_use=0, waiters=0, max_size=0)
            for field, family in families.items():
                family.add_metric([pool], getattr(stats, field))
        yield from families.values()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["route", "method", "status"]
        self.requests = Counter(
            "http_requests", "HTTP requests served", labels, registry=self.registry
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time from request start to the end of the response",
            labels,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "http_requests_in_flight", "Requests being served", registry=self.registry
        )
        self.streams_open = Gauge(
            "sse_streams_open", "Open change streams (/v1/changes/stream)", registry=self.registry
        )
        self.pools = PoolCollector()
        self.registry.register(self.pools)

    def watch_pool(self, name: str, source: PoolSource) -> None:
        self.pools.sources[name] = source


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    # Answered before routing (a 413 on the declared length) or by a route that does not set
    # `scope["route"]` (/docs): the path still belongs to a route, so it gets that label.
    matches = _matching_paths(getattr(scope.get("app"), "routes", ()), scope)
    best = min(matches, default=None, key=lambda match: match[0] != Match.FULL)
    return best[1] if best else UNMATCHED_ROUTE


def _matching_paths(routes: Iterable[BaseRoute], scope: Scope) -> Iterator[tuple[Match, str]]:
    for route in routes:
        # FastAPI includes routers lazily: look into each included router's own routes.
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is not None:
            yield from _matching_paths(inner, scope)
            continue
        match = route.matches(scope)[0]
        path = getattr(route, "path", None)
        if match != Match.NONE and isinstance(path, str):
            yield match, path


class ObserveRequests:
    """Counts, times and logs each HTTP request. It sits outside RequestContextMiddleware, so it
    sees the final status, problem responses included."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if nothing is sent: the server's own 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_observed)
        finally:
            self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - start
            route = _route_template(scope)
            # Any token is a valid method to uvicorn; invented ones share one label.
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            labels = (route, method, str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.duration.labels(*labels).observe(elapsed)
            state: Mapping[str, object] = scope.get("state") or {}
            access_logger.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "request_id": state.get("request_id"),
                    "owner": state.get("owner"),
                },
            )
