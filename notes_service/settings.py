from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


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
    db_pool_min: int = Field(default=1, ge=0, le=1000)
    db_pool_max: int = Field(default=10, ge=1, le=1000)
    read_db_pool_min: int = Field(default=1, ge=0, le=1000)
    read_db_pool_max: int = Field(default=10, ge=1, le=1000)
    db_acquire_timeout: float = Field(default=5.0, gt=0, le=300)
    db_statement_cache_size: int = Field(default=100, ge=0)
    # How long start-up keeps retrying an unreachable database before giving up.
    db_connect_timeout: float = Field(default=30.0, gt=0, le=3600)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    embedded_dir: Path = PROJECT_DIR / ".pgdata"
    embedded_port: int = Field(default=54329, ge=1024, le=65535)

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url", "read_database_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _check_database_url(value)

    @model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("NOTES_DB_POOL_MIN must not exceed NOTES_DB_POOL_MAX")
        if self.read_db_pool_min > self.read_db_pool_max:
            raise ValueError("NOTES_READ_DB_POOL_MIN must not exceed NOTES_READ_DB_POOL_MAX")
        return self

    @property
    def write_url(self) -> str:
        return self.database_url or self.embedded_url

    @property
    def read_url(self) -> str:
        return self.read_database_url or self.write_url

    @property
    def embedded_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.embedded_port}/postgres"


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable."""


def describe_validation_error(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        name = "NOTES_" + "_".join(str(part) for part in error["loc"]).upper()
        if not error["loc"]:
            name = "settings"
        lines.append(f"invalid setting {name}: {error['msg']}")
    return "; ".join(lines)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
