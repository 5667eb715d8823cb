"""Tortoise configuration. aerich imports `TORTOISE_ORM` from here, so this stays import-light:
the configuration is built (from the environment) only when that name is asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from notes_service.platform.settings import PROJECT_DIR, Settings, get_settings
from notes_service.platform.timeouts import pool_options
from notes_service.platform.urls import asyncpg_credentials

MODEL_MODULES = [
    "notes_service.accounts.models",
    "notes_service.notes.models",
    "notes_service.webhooks.models",
    "aerich.models",
]
MIGRATIONS_DIR: Path = PROJECT_DIR / "migrations"


def newest_migration() -> str | None:
    """The newest migration file (aerich names them `<n>_<timestamp>_<name>.py`)."""
    files = [p.name for p in (MIGRATIONS_DIR / "models").glob("*.py")]
    return max(files, key=lambda name: int(name.split("_")[0]), default=None)


def tortoise_config(settings: Settings) -> dict[str, Any]:
    credentials = asyncpg_credentials(settings.write_url) | {
        "minsize": settings.db_pool_min,
        "maxsize": settings.db_pool_max,
        "statement_cache_size": settings.db_statement_cache_size,
        "timeout": settings.db_acquire_timeout,  # asyncpg's connect timeout
        "acquire_timeout": settings.db_acquire_timeout,  # waiting for a free connection
        "server_settings": {"application_name": "notes-service"},
        **pool_options(settings),
    }
    return {
        "connections": {
            "default": {"engine": "notes_service.platform.pools", "credentials": credentials}
        },
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    # `TORTOISE_ORM`, aerich's `tortoise_orm` (pyproject.toml): a module attribute computed on
    # access (PEP 562), so importing this module reads no environment.
    if name == "TORTOISE_ORM":
        return tortoise_config(get_settings().for_long_jobs())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
