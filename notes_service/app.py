from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from tortoise.contrib.fastapi import RegisterTortoise

from notes_service import ops
from notes_service.cursors import CursorCodec
from notes_service.db import tortoise_config
from notes_service.middleware import RequestContextMiddleware
from notes_service.notes.router import router as notes_router
from notes_service.notes.router import transfer_router, trash_router
from notes_service.problems import install_problem_handlers
from notes_service.queries.database import ReadDatabase
from notes_service.queries.feeds import router as feeds_router
from notes_service.queries.router import router as queries_router
from notes_service.queries.search import router as search_router
from notes_service.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        read_db = ReadDatabase(settings)
        async with RegisterTortoise(app, config=tortoise_config(settings)):
            await read_db.connect()
            app.state.read_db = read_db
            try:
                yield
            finally:
                await read_db.disconnect()

    app = FastAPI(
        title="notes-service",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.cursor_codec = CursorCodec(settings.cursor_secret.get_secret_value())
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    app.include_router(ops.router)
    app.include_router(queries_router)
    app.include_router(search_router)
    app.include_router(feeds_router)
    app.include_router(notes_router)
    app.include_router(trash_router)
    app.include_router(transfer_router)
    return app
