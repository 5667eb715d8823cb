from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notes_service.platform.urls import embedded_url

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEV_CURSOR_SECRET = "development-only-cursor-secret"  # noqa: S105 - refused outside development

_ORIGIN = re.compile(r"https?://[^/?#\s,]+")
_DURATION = re.compile(r"(\d{1,9})\s*([smhd]?)")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`90`, `90s`, `15m`, `24h` or `30d`: the form operators type on a command line."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError("must be a duration such as 3600, 90s, 15m, 24h or 30d")
    return timedelta(seconds=int(match[1]) * _DURATION_UNITS[match[2]])


def format_duration(value: timedelta) -> str:
    """The form `parse_duration` reads: `24h`, `30d`, `90s`, not `1 day, 0:00:00`. Whole days
    from two days up are shown in days; one day stays `24h`, as the default is written."""
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        return f"{seconds // 86400}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _check_database_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("must start with postgresql:// or postgres://")
    if not parts.hostname:
        raise ValueError("must name a host, as in postgresql://user:password@host:5432/dbname")
    if not parts.path.strip("/"):
        raise ValueError("must name a database, as in postgresql://user@host:5432/dbname")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ValueError("has an invalid port") from exc
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NOTES_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    database_url: str | None = None
    read_database_url: str | None = None
    # LISTEN needs a session: behind PgBouncer in transaction mode, point this at PostgreSQL.
    listen_database_url: str | None = None
    db_pool_min: int = Field(default=1, ge=0, le=1000)
    # A write holds its connection for three round trips (BEGIN, the statement, COMMIT), and its
    # commits are group commits: PostgreSQL alone ran the POST transaction 1.27x faster with 20
    # clients than with 10 (benchmarks/RESULTS.md, issue 25).
    db_pool_max: int = Field(default=20, ge=1, le=1000)
    read_db_pool_min: int = Field(default=1, ge=0, le=1000)
    read_db_pool_max: int = Field(default=10, ge=1, le=1000)
    db_acquire_timeout: float = Field(default=5.0, gt=0, le=300)
    auth_cache_ttl: float = Field(default=5.0, ge=0, le=300)
    db_statement_cache_size: int = Field(default=100, ge=0)
    # Server-side limits on every pooled connection, in seconds; 0 leaves the server's own value.
    # See timeouts.py. Long jobs (migrate, CLI import/export/purge) run without the statement one.
    db_statement_timeout: float = Field(default=15.0, ge=0, le=86400)
    db_lock_timeout: float = Field(default=5.0, ge=0, le=86400)
    db_idle_in_transaction_timeout: float = Field(default=30.0, ge=0, le=86400)
    # How long start-up keeps retrying an unreachable database before giving up.
    db_connect_timeout: float = Field(default=30.0, gt=0, le=3600)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Serve the busiest routes without FastAPI's routing (notes_service/web/hot.py).
    hot_lane: bool = True
    # A search ranks only this many of its newest matches (docs/search.md, "Broad searches").
    search_rank_limit: int = Field(default=1000, ge=1, le=100_000)
    # Notes per `POST /v1/import`: one request is one transaction (and one statement of its size
    # after it for the feed's clock). Larger files go through `notes-service import`.
    import_max_lines: int = Field(default=10_000, ge=1, le=1_000_000)
    cursor_secret: SecretStr = SecretStr(DEV_CURSOR_SECRET)
    embedded_dir: Path = PROJECT_DIR / ".pgdata"
    embedded_port: int = Field(default=54329, ge=1024, le=65535)
    idempotency_ttl: timedelta = timedelta(hours=24)
    # uvicorn: seconds an idle keep-alive connection stays open.
    keep_alive_timeout: int = Field(default=5, ge=1, le=3600)
    # API requests in flight per worker before the next gets a 503 problem (unset: no limit).
    limit_concurrency: int | None = Field(default=None, ge=1)
    # Origins allowed to call the API from a browser, comma-separated (empty: no CORS at all).
    cors_origins: str = ""
    # When set, GET /metrics needs `Authorization: Bearer <token>`.
    metrics_token: SecretStr | None = None
    # How often each worker gives committed changes their feed positions (platform/feed_clock.py):
    # the most a change waits before the feed and the stream can serve it.
    feed_sequence_interval: float = Field(default=0.1, gt=0, le=1)
    # Server-Sent Events change stream (GET /v1/changes/stream), per worker.
    stream_max: int = Field(default=1000, ge=0, le=100_000)
    stream_heartbeat: float = Field(default=15.0, gt=0, le=3600)
    stream_poll_interval: float = Field(default=5.0, gt=0, le=3600)  # while the listener is down
    # Bytes of events read but not yet taken by a stream's client, then it is cut off.
    stream_buffer_bytes: int = Field(default=1_048_576, ge=4096, le=1_073_741_824)
    stream_max_per_key: int = Field(default=10, ge=1, le=100_000)  # open streams of one key
    stream_send_timeout: float = Field(default=10.0, gt=0, le=3600)  # a reader that falls behind
    # Webhooks (docs/webhooks.md). A failed attempt is retried after each delay in turn
    # (seconds; the default spans a day), then the delivery is marked failed; this many failed
    # deliveries in a row disable the webhook.
    webhook_retry_delays: str = "5,30,120,600,1800,3600,7200,14400,28800,43200"
    webhook_disable_after: int = Field(default=10, ge=1, le=1_000_000)
    # Tests (a receiver on 127.0.0.1) and private networks: allow loopback/private targets.
    webhook_allow_private_targets: bool = False
    # Deliveries run in every `serve` worker; false leaves them to `notes-service worker`.
    webhook_deliveries_in_serve: bool = True
    # How often a delivery worker looks for new changes and due attempts.
    webhook_poll_interval: float = Field(default=0.25, gt=0, le=60)

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("idempotency_ttl", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            value = parse_duration(value)
        if isinstance(value, int | float):
            value = timedelta(seconds=value)
        if isinstance(value, timedelta) and value <= timedelta(0):
            raise ValueError("must be positive")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in (part.strip() for part in value.split(",")):
            if origin and origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme://host[:port], as in https://app.example"
                )
        return value

    @property
    def cors_origin_list(self) -> list[str]:
        return [part.strip() for part in self.cors_origins.split(",") if part.strip()]

    @field_validator("webhook_retry_delays")
    @classmethod
    def _delays(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        try:
            delays = [float(p) for p in parts]
        except ValueError:
            raise ValueError("must be seconds separated by commas, e.g. 5,30,120") from None
        if any(not 0 <= d <= 7 * 86400 for d in delays):
            raise ValueError("each delay must be 0 to 604800 seconds")
        return ",".join(parts)

    @property
    def webhook_delays(self) -> list[float]:
        return [float(p) for p in self.webhook_retry_delays.split(",") if p]

    @field_validator("database_url", "read_database_url", "listen_database_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _check_database_url(value)

    @model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("NOTES_DB_POOL_MIN must not exceed NOTES_DB_POOL_MAX")
        if self.read_db_pool_min > self.read_db_pool_max:
            raise ValueError("NOTES_READ_DB_POOL_MIN must not exceed NOTES_READ_DB_POOL_MAX")
        if self.env != "development" and self.cursor_secret.get_secret_value() == DEV_CURSOR_SECRET:
            raise ValueError(
                "NOTES_CURSOR_SECRET must be set to a private random value outside development"
            )
        return self

    def for_long_jobs(self) -> Settings:
        """Migrations and CLI jobs may legitimately run one statement for minutes."""
        return self.model_copy(update={"db_statement_timeout": 0.0})

    @property
    def write_url(self) -> str:
        return self.database_url or self.embedded_url

    @property
    def read_url(self) -> str:
        return self.read_database_url or self.write_url

    @property
    def listen_url(self) -> str:
        return self.listen_database_url or self.write_url

    @property
    def embedded_url(self) -> str:
        return embedded_url(self.embedded_port)


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable."""


def describe_validation_error(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        if error["loc"]:
            name = "NOTES_" + "_".join(str(part) for part in error["loc"]).upper()
            message = f"invalid setting {name}: {message}"
        lines.append(message)
    return "; ".join(lines)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
