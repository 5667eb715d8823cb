"""Prometheus metrics and the per-request access line (recorded by the request middleware).

Each app has its own registry, so that building several apps in one process (tests) never
registers a metric twice. With `serve --workers N` (N > 1) the workers share one view instead:
`serve` points PROMETHEUS_MULTIPROC_DIR at a fresh folder before they start, prometheus_client
keeps every worker's numbers in files there, and whichever worker a scrape lands on adds them
up (prometheus_client's multiprocess mode). Counters and histograms are summed; requests in
flight are summed over live workers; pool gauges carry a `pid` label, one series per live worker.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import glob
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from notes_service.platform.pools import PoolStats

access_logger = logging.getLogger("notes_service.access")

PoolSource = Callable[[], PoolStats | None]
UNMATCHED_ROUTE = "unmatched"  # one label for every path no route matched: bounded cardinality
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's switch, read at import
POOL_SAMPLE_SECONDS = 1.0  # how often a worker copies its pool numbers to the shared files
_POOL_GAUGES = {
    "size": ("db_pool_size", "Open connections in the pool"),
    "in_use": ("db_pool_connections_in_use", "Connections handed out"),
    "waiters": ("db_pool_waiters", "Requests waiting to acquire a connection"),
    "max_size": ("db_pool_max_size", "Configured maximum pool size"),
}


def share_across_workers(workers: int) -> None:
    """Called by `serve` before uvicorn starts its workers: with more than one, give them a
    fresh folder for their metric files (removed at exit), so a scrape sees all of them."""
    if workers <= 1:
        return
    path = tempfile.mkdtemp(prefix="notes-metrics-")
    os.environ[MULTIPROCESS_DIR] = path
    atexit.register(shutil.rmtree, path, True)


class PoolCollector(Collector):
    """Reads the pools at scrape time, so the numbers are never stale."""

    def __init__(self) -> None:
        self.sources: dict[str, PoolSource] = {}

    def read(self) -> Iterator[tuple[str, PoolStats]]:
        for pool, source in self.sources.items():
            yield pool, source() or PoolStats(size=0, in_use=0, waiters=0, max_size=0)

    def collect(self) -> Iterator[Metric]:
        families = {
            field: GaugeMetricFamily(name, text, labels=["pool"])
            for field, (name, text) in _POOL_GAUGES.items()
        }
        for pool, stats in self.read():
            for field, family in families.items():
                family.add_metric([pool], getattr(stats, field))
        yield from families.values()


class SharedPoolGauges:
    """Multiprocess mode: a scrape runs in one worker and cannot ask another's pools, so each
    worker copies its numbers into the shared files, every POOL_SAMPLE_SECONDS and just before
    a scrape it serves. `liveall`: one series per live worker (the `pid` label)."""

    def __init__(self, pools: PoolCollector, registry: CollectorRegistry) -> None:
        self.pools = pools
        self.gauges = {
            field: Gauge(name, text, ["pool"], registry=registry, multiprocess_mode="liveall")
            for field, (name, text) in _POOL_GAUGES.items()
        }

    def sample(self) -> None:
        for pool, stats in self.pools.read():
            for field, gauge in self.gauges.items():
                gauge.labels(pool).set(getattr(stats, field))


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
            "http_requests_in_flight",
            "Requests being served",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.streams_open = Gauge(
            "sse_streams_open",
            "Open change streams (/v1/changes/stream)",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.stream_buffered_bytes = Gauge(
            "sse_stream_buffered_bytes",
            "Bytes of change events queued for stream clients and not yet sent",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.stream_feed_reads = Counter(
            "sse_feed_reads",
            "Statements the change streams ran to read the feed (shared by an owner's streams)",
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.pools = PoolCollector()
        self.shared_dir = os.environ.get(MULTIPROCESS_DIR)
        self._sampler: asyncio.Task[None] | None = None
        if self.shared_dir is None:
            self.registry.register(self.pools)
            self.shared: SharedPoolGauges | None = None
            self._scrape_registry = self.registry
        else:
            self.shared = SharedPoolGauges(self.pools, self.registry)
            self._scrape_registry = CollectorRegistry()
            MultiProcessCollector(self._scrape_registry, path=self.shared_dir)  # type: ignore[no-untyped-call]

    def observe(self, scope: Scope, status: int, elapsed: float) -> None:
        """Count, time and log one finished HTTP request (called by the request middleware)."""
        route = _route_template(scope)
        # Any token is a valid method to uvicorn; invented ones share one label.
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        labels = (route, method, status)
        children = self._children.get(labels)
        if children is None:
            # prometheus_client's `labels()` checks and locks on every call: ~3% of a list
            # request. The labels are bounded (route templates, methods, statuses).
            children = (
                self.requests.labels(route, method, str(status)),
                self.duration.labels(route, method, str(status)),
            )
            self._children[labels] = children
        children[0].inc()
        children[1].observe(elapsed)
        if not access_logger.isEnabledFor(logging.INFO):
            return  # production logs warnings only: no access line to build
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

    def watch_pool(self, name: str, source: PoolSource) -> None:
        self.pools.sources[name] = source

    def start(self) -> None:
        """From the app's lifespan, once the pools are open."""
        if self.shared is not None:
            self._sampler = asyncio.create_task(self._sample_forever(self.shared))

    async def _sample_forever(self, shared: SharedPoolGauges) -> None:
        while True:
            shared.sample()
            await asyncio.sleep(POOL_SAMPLE_SECONDS)

    async def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        if self.shared_dir is not None:
            mark_process_dead(os.getpid(), self.shared_dir)  # type: ignore[no-untyped-call]

    def render(self) -> bytes:
        if self.shared is not None and self.shared_dir is not None:
            self.shared.sample()
            _forget_dead_workers(self.shared_dir)
        return generate_latest(self._scrape_registry)


def _forget_dead_workers(path: str) -> None:
    """A worker that was killed (uvicorn starts a new one) never ran its shutdown: drop its
    per-pid gauges here. Its counters stay, rightly: they are part of the totals."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid = int(os.path.basename(name).rsplit("_", 1)[1].removesuffix(".db"))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # alive, under another user


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
