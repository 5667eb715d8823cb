from __future__ import annotations

import pytest

from notes_service.platform.settings import Settings, SettingsError, load_settings
from tests.support.cli import run_cli


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NOTES_DB_POOL_MAX", "lots"),
        ("NOTES_DB_ACQUIRE_TIMEOUT", "-1"),
        ("NOTES_DATABASE_URL", "mysql://root@localhost/notes"),
        ("NOTES_READ_DATABASE_URL", "postgresql://"),
        ("NOTES_LOG_LEVEL", "chatty"),
        ("NOTES_MAX_BODY_BYTES", "0"),
        ("NOTES_CORS_ORIGINS", "https://app.example, app.example"),
        ("NOTES_LIMIT_CONCURRENCY", "0"),
    ],
)
def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_start_up_fails_with_a_message_naming_the_setting() -> None:
    result = run_cli("migrate", database_url="postgresql://u@h/db", NOTES_DB_POOL_MAX="lots")
    assert result.returncode == 2
    assert "invalid setting NOTES_DB_POOL_MAX" in result.stderr
    assert "Traceback" not in result.stderr


def test_pool_min_above_max_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_DB_POOL_MIN", "20")
    monkeypatch.setenv("NOTES_DB_POOL_MAX", "10")
    with pytest.raises(SettingsError, match="NOTES_DB_POOL_MIN"):
        load_settings()


def test_read_url_defaults_to_write_url() -> None:
    url = "postgres://app:secret@db.internal:5432/notes"
    settings = Settings(_env_file=None, database_url=url)
    assert settings.read_url == url
    replica = "postgresql://ro@replica:5432/notes"
    settings = Settings(_env_file=None, database_url=url, read_database_url=replica)
    assert settings.read_url == replica


def test_the_default_cursor_secret_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTES_ENV", "production")
    with pytest.raises(SettingsError, match="NOTES_CURSOR_SECRET"):
        load_settings()
    monkeypatch.setenv("NOTES_CURSOR_SECRET", "a-private-random-value")
    assert load_settings().cursor_secret.get_secret_value() == "a-private-random-value"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("24h", 86400), ("90", 90), ("15m", 900), ("30d", 2_592_000), (" 2H ", 7200)],
)
def test_idempotency_ttl_takes_a_duration(
    monkeypatch: pytest.MonkeyPatch, value: str, seconds: int
) -> None:
    monkeypatch.setenv("NOTES_IDEMPOTENCY_TTL", value)
    assert load_settings().idempotency_ttl.total_seconds() == seconds


@pytest.mark.parametrize("value", ["0", "soon", "-5m", "1w"])
def test_a_bad_idempotency_ttl_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NOTES_IDEMPOTENCY_TTL", value)
    with pytest.raises(SettingsError, match="NOTES_IDEMPOTENCY_TTL"):
        load_settings()


def test_idempotency_ttl_defaults_to_a_day() -> None:
    assert Settings(_env_file=None).idempotency_ttl.total_seconds() == 86400


def test_cors_origins_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().cors_origin_list == []
    monkeypatch.setenv("NOTES_CORS_ORIGINS", " https://app.example , http://127.0.0.1:5173,")
    assert load_settings().cors_origin_list == ["https://app.example", "http://127.0.0.1:5173"]
