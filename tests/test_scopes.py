"""Keys with scopes and expiry, managed over HTTP (SPEC §11)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from notes_service.accounts import auth
from notes_service.accounts.scopes import ALL_SCOPES, READ_METHODS, required_scope
from tests.support.cli import run_cli
from tests.support.factories import sql
from tests.support.servers import until


async def _key(owner: str = "alice", *scopes: str, **kwargs: Any) -> dict[str, str]:
    key = await auth.create_key(owner, scopes=scopes or ALL_SCOPES, **kwargs)
    return {"Authorization": f"Bearer {key.secret}"}


def _api_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """The app's routes with their full paths, also inside included routers (FastAPI >= 0.165
    keeps an included router whole, as `_IncludedRouter`, rather than copying its routes)."""
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):
            inner = prefix + route.include_context.prefix
            found += _api_routes(route.original_router.routes, inner)
    return found


def _write_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the app that is not a read, its path parameters filled in."""
    found: list[tuple[str, str]] = []
    for template, route in _api_routes(app.routes):
        path = re.sub(r"\{version\}", "1", template)
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        found.extend((m, path) for m in sorted(route.methods or ()) if m not in READ_METHODS)
    return found


async def test_a_read_only_key_is_refused_on_every_write_route(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = await _key("alice", "notes:read")
    routes = _write_routes(app)
    assert ("POST", "/v1/notes") in routes and ("POST", "/v1/keys") in routes
    assert {path for path, _ in _api_routes(app.routes)} >= set(app.openapi()["paths"])
    for method, path in routes:
        # A body the hot lane would serve, so that its path is checked too.
        response = await client.request(method, path, headers=headers, json={"title": "t"})
        if required_scope(method, path) == "notes:read":  # a stream token: it only reads
            assert response.status_code != 403, (method, path, response.text)
            continue
        assert response.status_code == 403, (method, path, response.text)
        problem = response.json()
        assert problem["type"].endswith(":insufficient-scope")
        assert problem["scope"] == required_scope(method, path)
        assert problem["scope"] in problem["detail"]
    assert await sql("SELECT 1 FROM notes") == []


async def test_a_read_only_key_reads(client: httpx.AsyncClient) -> None:
    headers = await _key("alice", "notes:read")
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200
    assert (await client.get("/v1/changes", headers=headers)).status_code == 200


async def test_a_write_only_key_cannot_read(client: httpx.AsyncClient) -> None:
    headers = await _key("alice", "notes:write")
    assert (await client.post("/v1/notes", headers=headers, json={"title": "t"})).status_code == 201
    response = await client.get("/v1/notes", headers=headers)
    assert response.status_code == 403
    assert response.json()["scope"] == "notes:read"


async def test_an_expired_key_gets_key_expired(client: httpx.AsyncClient) -> None:
    headers = await _key("alice", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = await client.get("/v1/notes", headers=headers)
    assert response.status_code == 401
    assert response.json()["type"].endswith(":key-expired")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_cached_key_expires_and_changes_scope_everywhere(client: httpx.AsyncClient) -> None:
    key = await auth.create_key("alice", expires_at=datetime.now(UTC) + timedelta(days=1))
    headers = {"Authorization": f"Bearer {key.secret}"}
    assert (await client.post("/v1/notes", headers=headers, json={"title": "t"})).status_code == 201
    assert auth.KEY_CACHE.get(auth.hash_key(key.secret)) is not None  # cached for the long TTL
    # Changed in the database (as by another process): the trigger tells every process.
    await sql("UPDATE api_keys SET scopes = '[\"notes:read\"]' WHERE id = $1", key.id)
    await until(lambda: _status(client, "POST", headers, 403), 1.0, "the scope change to be heard")
    await sql("UPDATE api_keys SET expires_at = now() - interval '1 s' WHERE id = $1", key.id)
    await until(lambda: _status(client, "GET", headers, 401), 1.0, "the expiry to be heard")
    response = await client.get("/v1/notes", headers=headers)
    assert response.json()["type"].endswith(":key-expired")


async def _status(client: httpx.AsyncClient, method: str, headers: dict[str, str], s: int) -> bool:
    response = await client.request(method, "/v1/notes", headers=headers, json={"title": "t"})
    return response.status_code == s


async def test_keys_over_http(client: httpx.AsyncClient) -> None:
    admin = await _key("alice")
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    response = await client.post(
        "/v1/keys",
        headers=admin,
        json={"label": "reader", "scopes": ["notes:read"], "expires_at": expires.isoformat()},
    )
    assert response.status_code == 201, response.text
    made = response.json()
    assert set(made) >= {"id", "key", "scopes", "expires_at", "created_at"}
    assert made["scopes"] == ["notes:read"] and made["key"].startswith("nsk_")
    assert datetime.fromisoformat(made["expires_at"]) == expires
    reader = {"Authorization": f"Bearer {made['key']}"}
    assert (await client.get("/v1/notes", headers=reader)).status_code == 200
    assert (await client.post("/v1/notes", headers=reader, json={"title": "t"})).status_code == 403

    await auth.USAGE.flush()
    listed = (await client.get("/v1/keys", headers=admin)).json()
    assert made["key"] not in str(listed)
    mine = next(k for k in listed if k["id"] == made["id"])
    assert mine["scopes"] == ["notes:read"] and mine["label"] == "reader"
    used = datetime.fromisoformat(mine["last_used_at"])
    assert used.second == 0 and used.microsecond == 0  # to the minute

    deleted = await client.delete(f"/v1/keys/{made['id']}", headers=admin)
    assert deleted.status_code == 204
    await until(lambda: _get_status(client, reader, 401), 1.0, "the revocation to be heard")
    again = await client.delete(f"/v1/keys/{made['id']}", headers=admin)
    assert again.status_code == 404
    assert made["id"] not in str((await client.get("/v1/keys", headers=admin)).json())


async def _get_status(client: httpx.AsyncClient, headers: dict[str, str], s: int) -> bool:
    return (await client.get("/v1/notes", headers=headers)).status_code == s


async def test_a_key_grants_only_scopes_it_holds(client: httpx.AsyncClient) -> None:
    limited = await _key("alice", "notes:read", "keys:write")
    response = await client.post("/v1/keys", headers=limited, json={"scopes": ["notes:write"]})
    assert response.status_code == 403
    assert response.json()["scope"] == "notes:write"
    response = await client.post("/v1/keys", headers=limited, json={"scopes": ["notes:read"]})
    assert response.status_code == 201


async def test_a_granted_key_expires_no_later_than_its_maker(client: httpx.AsyncClient) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    maker = await _key("alice", expires_at=soon)
    response = await client.post("/v1/keys", headers=maker, json={"scopes": ["notes:read"]})
    assert response.status_code == 201
    assert datetime.fromisoformat(response.json()["expires_at"]) == soon


async def test_another_owners_key_cannot_be_revoked(client: httpx.AsyncClient) -> None:
    bob = await auth.create_key("bob")
    response = await client.delete(f"/v1/keys/{bob.id}", headers=await _key("alice"))
    assert response.status_code == 404
    assert (await sql("SELECT revoked_at FROM api_keys WHERE id = $1", bob.id))[0][
        "revoked_at"
    ] is None


@pytest.mark.parametrize(
    "payload",
    [
        {"scopes": ["notes:admin"]},
        {"scopes": []},
        {"scopes": "notes:read"},
        {"scopes": ["notes:read"], "expires_at": "tomorrow"},
        {"scopes": ["notes:read"], "expires_at": "2030-01-01T00:00:00"},  # no time zone
        {"scopes": ["notes:read"], "label": "x" * 101},
        {"scopes": ["notes:read"], "extra": 1},
    ],
)
async def test_bad_key_requests_get_422(client: httpx.AsyncClient, payload: Any) -> None:
    admin = await _key("alice")
    response = await client.post("/v1/keys", headers=admin, json=payload)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert len(await sql("SELECT 1 FROM api_keys")) == 1


async def test_last_used_is_not_written_per_request(client: httpx.AsyncClient) -> None:
    key = await auth.create_key("alice")
    headers = {"Authorization": f"Bearer {key.secret}"}
    minute = int(time.time() // 60)
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200
    await auth.USAGE.flush()
    assert (await sql("SELECT last_used_at FROM api_keys"))[0]["last_used_at"] is not None
    await sql("UPDATE api_keys SET last_used_at = NULL")
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200
    await auth.USAGE.flush()
    if int(time.time() // 60) == minute:  # the same minute: no second write
        assert (await sql("SELECT last_used_at FROM api_keys"))[0]["last_used_at"] is None


async def test_cli_makes_scoped_expiring_keys(client: httpx.AsyncClient, database_url: str) -> None:
    created = run_cli(
        "keys", "create", "--owner", "carol", "--scope", "notes:read", "--expires-in", "30d",
        database_url=database_url,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    lines = dict(line.split(":", 1) for line in created.stdout.strip().splitlines())
    headers = {"Authorization": f"Bearer {lines['key'].strip()}"}
    assert lines["scopes"].strip() == "notes:read"
    expires = datetime.fromisoformat(lines["expires"].strip())
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200
    assert (await client.post("/v1/notes", headers=headers, json={"title": "t"})).status_code == 403
    bad = run_cli(
        "keys", "create", "--owner", "carol", "--scope", "notes:all", database_url=database_url
    )
    assert bad.returncode == 2


async def test_keys_and_webhooks_need_their_own_scope_to_read_too(
    client: httpx.AsyncClient,
) -> None:
    notes_only = await _key("alice", "notes:read", "notes:write")
    for path, scope in (("/v1/keys", "keys:write"), ("/v1/webhooks", "webhooks:write")):
        response = await client.get(path, headers=notes_only)
        assert response.status_code == 403
        assert response.json()["scope"] == scope
    hooks_only = await _key("alice", "webhooks:write")
    assert (await client.get("/v1/webhooks", headers=hooks_only)).status_code == 200
    assert (await client.get("/v1/notes", headers=hooks_only)).status_code == 403
