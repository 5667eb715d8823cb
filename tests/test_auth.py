from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from tortoise.exceptions import IntegrityError

from notes_service.accounts import auth
from notes_service.accounts.models import ApiKey, Owner
from tests.support.cli import run_cli
from tests.support.factories import api_key
from tests.support.servers import until


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer nsk_" + "A" * 43,
        "Bearer nsk_' OR 1=1 --",
    ],
)
async def test_bad_credentials_get_401_with_bearer_challenge(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    await api_key()
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, url in (("GET", "/v1/notes"), ("POST", "/v1/notes"), ("GET", "/v1/notes/x")):
        response = await client.request(method, url, headers=headers, json={"title": "t"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith(":unauthorized")


async def test_revoked_key_gets_401(client: httpx.AsyncClient) -> None:
    key = await auth.create_key("alice")
    headers = {"Authorization": f"Bearer {key.secret}"}
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200
    assert await auth.revoke_key(key.id) is True
    assert await auth.revoke_key(key.id) is False
    response = await client.get("/v1/notes", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_only_a_hash_of_the_key_is_stored(client: httpx.AsyncClient) -> None:
    key = await auth.create_key("alice", "laptop")
    assert key.secret.startswith("nsk_")
    stored = await ApiKey.get(id=key.id)
    assert stored.key_hash == auth.hash_key(key.secret)
    assert key.secret not in stored.key_hash


async def test_key_creation_rolls_back_the_owner_when_the_key_insert_fails(
    client: httpx.AsyncClient,
) -> None:
    first = await auth.create_key("alice")
    # The same secret again makes the second insert (the key) violate its unique hash.
    with pytest.raises(IntegrityError):
        await auth.create_key("bob", secret=first.secret)
    assert not await Owner.exists(name="bob")
    assert await ApiKey.all().count() == 1


async def test_keys_cli_creates_lists_and_revokes(
    client: httpx.AsyncClient, database_url: str
) -> None:
    created = run_cli(
        "keys", "create", "--owner", "carol", "--label", "ci", database_url=database_url
    )
    assert created.returncode == 0, created.stderr
    lines = dict(line.split(":", 1) for line in created.stdout.strip().splitlines())
    key_id, secret = lines["key id"].strip(), lines["key"].strip()
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200

    listed = run_cli("keys", "list", "--owner", "carol", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    assert key_id in listed.stdout and "label=ci" in listed.stdout
    assert secret not in listed.stdout
    # Times as the API writes them (`Z`, never `+00:00`).
    [api_key] = (await client.get("/v1/keys", headers=headers)).json()
    assert f"created={api_key['created_at']} " in listed.stdout, (listed.stdout, api_key)
    assert "+00:00" not in listed.stdout

    assert auth.KEY_CACHE.get(auth.hash_key(secret)) is not None  # cached for the long TTL
    revoked = run_cli("keys", "revoke", key_id, database_url=database_url)
    assert revoked.returncode == 0, revoked.stderr
    # Another process revoked it: this one hears it, whatever the cache's TTL.
    await until(lambda: _status(client, headers, 401), 1.0, "the revocation to be heard")
    again = run_cli("keys", "revoke", key_id, database_url=database_url)
    assert again.returncode == 1


async def _status(client: httpx.AsyncClient, headers: dict[str, str], status: int) -> bool:
    return (await client.get("/v1/notes", headers=headers)).status_code == status


async def test_a_key_stays_cached_only_while_revocations_are_heard(
    client: httpx.AsyncClient,
) -> None:
    key = await auth.create_key("alice")
    headers = {"Authorization": f"Bearer {key.secret}"}
    key_hash = auth.hash_key(key.secret)
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200
    assert auth.KEY_CACHE.live
    assert auth.KEY_CACHE.get(key_hash) is not None
    # Revoked behind this process's back (no call into it), as the CLI or another worker would.
    await ApiKey.filter(id=key.id).update(revoked_at=datetime.now(UTC))
    await until(lambda: auth.KEY_CACHE.get(key_hash) is None, 1.0, "the key to be evicted")
    assert (await client.get("/v1/notes", headers=headers)).status_code == 401


def test_a_lookup_that_raced_a_revocation_is_not_cached() -> None:
    cache = auth.KeyCache(ttl=60)
    cache.set_live(True)
    principal = auth.Principal(1, "o", uuid.uuid4())
    generation = cache.generation  # a lookup starts ...
    cache.forget(principal.key_id)  # ... the revocation is heard ...
    cache.put("h", principal, generation)  # ... and the lookup's (stale) answer arrives
    assert cache.get("h") is None
    cache.put("h", principal, cache.generation)
    assert cache.get("h") == principal
    cache.set_live(False)  # the listener is down: dropped and bypassed
    assert cache.get("h") is None
    cache.put("h", principal, cache.generation)
    assert cache.get("h") is None


def test_the_key_cache_is_bounded() -> None:
    cache = auth.KeyCache(ttl=60, max_entries=3)
    cache.set_live(True)
    principals = [auth.Principal(i, f"o{i}", uuid.uuid4()) for i in range(5)]
    for i, principal in enumerate(principals):
        cache.put(f"h{i}", principal, cache.generation)
    assert [cache.get(f"h{i}") for i in range(5)] == [None, None, *principals[2:]]
    cache.forget(principals[3].key_id)
    assert cache.get("h3") is None
    assert auth.KeyCache(ttl=0).get("h") is None
