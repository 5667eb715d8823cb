from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from tortoise import connections
from tortoise.contrib.fastapi import RegisterTortoise

from notes_service import __version__
from notes_service.accounts.auth import KEY_CACHE
from notes_service.accounts.stream_tokens import StreamTokens
from notes_service.cursors import CursorCodec
from notes_service.notes.router import HOT_HANDLERS as notes_hot
from notes_service.notes.router import router as notes_router
from notes_service.notes.router import transfer_router, trash_router
from notes_service.platform.db import tortoise_config
from notes_service.platform.feed_clock import FeedClock
from notes_service.platform.listener import Listener
from notes_service.platform.logs import configure_logging
from notes_service.platform.pools import BoundedAsyncpgClient
from notes_service.platform.read_db import ReadDatabase
from notes_service.platform.settings import Settings, get_settings
from notes_service.platform.startup import wait_for_database
from notes_service.queries.changes import router as changes_router
from notes_service.queries.export import router as export_router
from notes_service.queries.repository import NoteQueries
from notes_service.queries.router import HOT_HANDLERS as queries_hot
from notes_service.queries.router import router as queries_router
from notes_service.queries.search import HOT_HANDLERS as search_hot
from notes_service.queries.search import router as search_router
from notes_service.queries.stream import router as stream_router
from notes_service.queries.stream_hub import StreamHub
from notes_service.queries.summaries import router as summaries_router
from notes_service.web import docs, keys, openapi, openapi_clients, probes, tokens, webhooks
from notes_service.web.compression import Gzip
from notes_service.web.cors import Cors
from notes_service.web.hot import HotLane, hot_routes
from notes_service.web.metrics import Metrics
from notes_service.web.middleware import RequestMiddleware
from notes_service.web.problems import install_problem_handlers
from notes_service.webhooks.worker import WebhookWorker

logger = logging.getLogger(__name__)


# Generation-0 collections per allocation count: CPython's default (700) runs one every few
# requests, each walking the young objects; requests make little cyclic garbage.
GC_GEN0_THRESHOLD = 20_000


def _settle_garbage_collector() -> None:
    """After start-up: move everything start-up built (modules, models, routes, pools) out of the
    collector's sight, so no collection walks it again, and collect less often. Worth 8% of a
    one-row GET here (benchmarks/RESULTS.md)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(max(GC_GEN0_THRESHOLD, gc.get_threshold()[0]), older, oldest)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await wait_for_database(settings)
        read_db = ReadDatabase(settings)
        async with RegisterTortoise(app, config=tortoise_config(settings)):
            await read_db.connect()
            app.state.read_db = read_db
            app.state.note_queries = NoteQueries(read_db, settings.search_rank_limit)
            write_client = connections.get("default")
            # The engine tortoise_config() names: anything else is a wrong configuration.
            if not isinstance(write_client, BoundedAsyncpgClient):
                raise TypeError(f"unexpected write client {type(write_client).__name__}")
            metrics.watch_pool("write", write_client.pool_stats)
            metrics.watch_pool("read", read_db.pool_stats)
            listener = Listener(settings.listen_url, KEY_CACHE)
            await listener.start()
            app.state.feed_clock = feed_clock = FeedClock(
                settings.feed_sequence_interval, listener.fetch
            )
            feed_clock.start()
            app.state.streams = streams = StreamHub(
                settings,
                listener,
                feed_clock,
                metrics.streams_open,
                app.state.note_queries,
                app.state.cursor_codec,
                metrics.stream_buffered_bytes,
                metrics.stream_feed_reads,
            )
            streams.start()
            undo_signals = streams.follow_shutdown_signals()
            webhook_worker = WebhookWorker(settings)
            if settings.webhook_deliveries_in_serve:
                webhook_worker.start()
            metrics.start()
            logger.info("started: write and read pools open")
            _settle_garbage_collector()
            try:
                yield
            finally:
                undo_signals()
                streams.shut_down()
                await streams.stop()
                await webhook_worker.stop()
                await feed_clock.stop()
                await listener.stop()
                await metrics.stop()
                await read_db.disconnect()
        logger.info("stopped: write and read pools closed")

    app = FastAPI(
        title="notes-service",
        version=__version__,
        contact={"name": "notes-service maintainers"},
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # served by notes_service.web.docs from local assets
        redoc_url=None,  # ReDoc would load from a CDN
        generate_unique_id_function=openapi_clients.operation_id,
    )
    app.state.settings = settings
    KEY_CACHE.ttl = settings.auth_cache_ttl
    app.state.cursor_codec = CursorCodec(settings.cursor_secret.get_secret_value())
    app.state.stream_tokens = StreamTokens(settings.cursor_secret.get_secret_value())
    app.state.metrics = metrics
    install_problem_handlers(app)
    lane = hot_routes(
        [*notes_router.routes, *queries_router.routes, *search_router.routes],
        notes_hot | queries_hot | search_hot,
    )
    # Added first, so it runs inside the others.
    app.add_middleware(HotLane, routes=lane)
    app.add_middleware(Gzip)
    app.add_middleware(
        RequestMiddleware,
        max_body_bytes=settings.max_body_bytes,
        metrics=metrics,
        limit_concurrency=settings.limit_concurrency,
    )
    if settings.cors_origin_list:
        # Outermost: a preflight costs nothing further, and every answer (a 413, a 503 at the
        # concurrency limit) is readable by the page.
        app.add_middleware(Cors, origins=settings.cors_origin_list)
    # Routes are matched in order: the hottest (a single note) first.
    app.include_router(notes_router)
    app.include_router(queries_router)
    app.include_router(search_router)
    app.include_router(stream_router)  # before the feed, whose prefix it shares
    app.include_router(tokens.router)
    app.include_router(summaries_router)
    app.include_router(changes_router)
    app.include_router(export_router)
    app.include_router(trash_router)
    app.include_router(transfer_router)
    app.include_router(keys.router)
    app.include_router(webhooks.router)
    app.include_router(probes.router)
    app.include_router(docs.router)
    openapi.install(app)
    return app


def asgi_app() -> FastAPI:
    """The factory uvicorn runs in each worker: settings from the environment, logging set up
    before the first line is written."""
    settings = get_settings()
    configure_logging(settings)
    return create_app(settings)
