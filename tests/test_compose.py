"""docker-compose.yml is consistent with the package: no Docker engine runs here, so the file
is checked by reading it."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tomllib
from typing import Any

import pytest
import yaml

from notes_service.cli.main import _parser
from notes_service.platform.embedded import _bin_dir
from notes_service.platform.settings import PROJECT_DIR, Settings

COMPOSE = PROJECT_DIR / "docker-compose.yml"
NGINX = PROJECT_DIR / "deploy" / "nginx.conf"
BUILT = ("migrate", "app")  # the services that run the image built from the Dockerfile


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load(COMPOSE.read_text())
    result: dict[str, Any] = compose["services"]
    return result


def _cli_args(command: list[str]) -> list[str]:
    """The arguments of a `notes-service ...` command, which must parse as the real CLI."""
    scripts = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["scripts"]
    assert command[0] in scripts, command
    _parser().parse_args(command[1:])  # exits (SystemExit) on an unknown command or option
    return command[1:]


def test_the_services(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "migrate", "app", "proxy", "pgbouncer"}


def test_postgres_has_a_healthcheck(services: dict[str, Any]) -> None:
    test = services["postgres"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL" and test[1].startswith("pg_isready")


def test_migrate_runs_once_after_postgres_is_healthy(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert _cli_args(migrate["command"]) == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    # Straight to PostgreSQL, not through PgBouncer.
    assert "@postgres:5432/" in migrate["environment"]["NOTES_DATABASE_URL"]


def test_app_starts_after_a_successful_migrate_and_is_probed_on_readyz(
    services: dict[str, Any],
) -> None:
    app = services["app"]
    args = _cli_args(app["command"])
    parsed = _parser().parse_args(args)
    assert parsed.command == "serve" and parsed.host == "0.0.0.0"  # noqa: S104 - in a container
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["depends_on"]["pgbouncer"]["required"] is False
    probe = " ".join(app["healthcheck"]["test"])
    assert f"http://127.0.0.1:{parsed.port}/readyz" in probe
    assert app["deploy"]["replicas"] >= 2
    assert "ports" not in app  # a fixed host port would stop replicas from starting
    assert str(parsed.port) in app["expose"]


def test_migrate_and_app_share_the_image(services: dict[str, Any]) -> None:
    migrate, app = services["migrate"], services["app"]
    assert migrate["build"] == "."
    assert (PROJECT_DIR / "Dockerfile").is_file()
    assert migrate["image"] == app["image"]


def test_every_service_of_the_image_runs_with_production_settings(
    services: dict[str, Any],
) -> None:
    # `.env` says NOTES_ENV=development (local defaults): no service may take it in.
    for name in BUILT:
        service = services[name]
        assert "env_file" not in service, name
        environment = service["environment"]
        assert environment["NOTES_ENV"] == "production", name
        assert environment["NOTES_LOG_FORMAT"] == "json", name
        assert ":?" in environment["NOTES_CURSOR_SECRET"], name


def test_the_port_is_published_through_the_proxy_to_every_replica(
    services: dict[str, Any],
) -> None:
    app, proxy = services["app"], services["proxy"]
    port = _parser().parse_args(_cli_args(app["command"])).port
    [published] = proxy["ports"]
    host, _, inside = published.rpartition(":")
    assert host.startswith("127.0.0.1:"), published  # plain HTTP: this machine only by default
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    assert any(volume.startswith("./deploy/nginx.conf:") for volume in proxy["volumes"])
    conf = NGINX.read_text()
    assert f"listen {inside};" in conf
    assert f"set $app http://app:{port};" in conf and "proxy_pass $app;" in conf
    # nginx resolves `app` at request time (every replica) only with Docker's resolver.
    assert "resolver 127.0.0.11" in conf
    limit = re.search(r"client_max_body_size (\d+)m;", conf)
    assert limit is not None
    assert int(limit[1]) * 1024 * 1024 <= Settings(_env_file=None).max_body_bytes


def test_the_documented_way_to_make_a_key_is_a_real_command(services: dict[str, Any]) -> None:
    pages = [
        COMPOSE.read_text(),
        (PROJECT_DIR / "docs" / "deployment.md").read_text(),
        (PROJECT_DIR / "README.md").read_text(),
    ]
    for page in pages:
        runs = re.findall(r"docker compose run --rm (\S+) (notes-service [^\n#`]+)", page)
        assert runs, "no `docker compose run --rm app notes-service keys create ...`"
        for service, command in runs:
            assert service in BUILT, service
            assert _cli_args(shlex.split(command))[:2] == ["keys", "create"]


def test_the_image_carries_no_embedded_postgresql() -> None:
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("pgserver") for d in project["dependencies"])
    assert any(d.startswith("pgserver") for d in project["optional-dependencies"]["embedded"])
    [install] = [line for line in _dockerfile().splitlines() if "pip install" in line]
    assert "-e ." in install and "[" not in install, install  # no extra


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)\.\d+", version_text)
    assert match is not None, version_text
    return int(match[1])


def test_compose_runs_the_postgresql_of_the_embedded_server(services: dict[str, Any]) -> None:
    tag = services["postgres"]["image"].partition(":")[2]
    embedded = subprocess.run(
        [str(_bin_dir() / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert _major(tag) == _major(embedded), (tag, embedded)
    # 18+ images keep their data in /var/lib/postgresql/<major>/docker: the volume is the parent.
    assert "pgdata:/var/lib/postgresql" in services["postgres"]["volumes"]


def test_every_notes_variable_is_a_real_setting(services: dict[str, Any]) -> None:
    known = {f"NOTES_{name.upper()}" for name in Settings.model_fields}
    for name, service in services.items():
        for variable in service.get("environment", {}):
            if variable.startswith("NOTES_"):
                assert variable in known, f"{name}: {variable}"
    for line in (PROJECT_DIR / ".env").read_text().splitlines():
        line = line.strip().lstrip("# ")
        if line.startswith("NOTES_") and "=" in line:
            assert line.split("=", 1)[0] in known, line


def test_pgbouncer_is_a_transaction_mode_profile(services: dict[str, Any]) -> None:
    pgbouncer = services["pgbouncer"]
    assert pgbouncer["profiles"] == ["pgbouncer"]
    assert pgbouncer["environment"]["POOL_MODE"] == "transaction"
    assert pgbouncer["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_dockerfile_runs_a_real_command() -> None:
    for line in (PROJECT_DIR / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            command = json.loads(line.removeprefix("CMD "))
            assert _cli_args(command)[0] == "serve"
            break
    else:
        raise AssertionError("the Dockerfile has no CMD")


def test_production_services_must_be_given_a_cursor_secret(services: dict[str, Any]) -> None:
    # Settings refuse the development cursor secret outside development; compose must not start
    # such a service without one, so the variable is required (`${VAR:?message}`).
    for service in services.values():
        environment = service.get("environment", {})
        if environment.get("NOTES_ENV", "development") != "development":
            assert ":?" in environment["NOTES_CURSOR_SECRET"]


# A version, not a moving tag: `18.3-bookworm`, `v1.25.1-p0` (never `latest`, never just `16`).
PINNED_TAG = re.compile(r"v?\d+\.\d+[\w.-]*")


def _dockerfile() -> str:
    return (PROJECT_DIR / "Dockerfile").read_text()


def test_every_image_is_pinned_to_a_version(services: dict[str, Any]) -> None:
    built = services["migrate"]["image"]
    for name, service in services.items():
        image = service["image"]
        if image == built:
            continue  # built here from the Dockerfile
        tag = image.partition(":")[2]
        assert PINNED_TAG.fullmatch(tag), f"{name}: {image}"
    [base] = [line.split()[1] for line in _dockerfile().splitlines() if line.startswith("FROM ")]
    assert PINNED_TAG.fullmatch(base.partition(":")[2]), base


def test_the_image_runs_in_production_unless_told_otherwise() -> None:
    environment = [line for line in _dockerfile().splitlines() if line.startswith("ENV ")]
    assert any("NOTES_ENV=production" in line.split() for line in environment), environment


def test_every_database_password_follows_postgres_password(services: dict[str, Any]) -> None:
    postgres = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert postgres.startswith("${POSTGRES_PASSWORD:?"), postgres  # required, no default
    text = COMPOSE.read_text()
    assert "notes:notes@" not in text
    urls = [
        services["migrate"]["environment"]["NOTES_DATABASE_URL"],
        services["app"]["environment"]["NOTES_DATABASE_URL"],
    ]
    for url in urls:
        assert "postgresql://notes:${POSTGRES_PASSWORD}@postgres:5432/notes" in url, url
    assert services["pgbouncer"]["environment"]["DB_PASSWORD"] == "${POSTGRES_PASSWORD}"
