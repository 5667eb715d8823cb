"""Database URLs: the embedded server's, and what each part of the service needs of a URL (where
it points, a masked form for output, asyncpg's keyword arguments)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit


def embedded_url(port: int) -> str:
    """The embedded PostgreSQL (platform/embedded.py) on this port."""
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def where(url: str) -> str:
    """host:port/dbname of a URL: enough to find it, and never the password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}/{parts.path.lstrip('/')}"


def server_of(url: str) -> tuple[str, int]:
    """The (host, port) a URL connects to: URLs to one server share its connection budget."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 5432


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def asyncpg_credentials(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname,
        "port": parts.port or 5432,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "database": parts.path.lstrip("/"),
    }
