"""The worker's LISTEN connection: revocations from any process, and surviving its loss."""

from __future__ import annotations

import httpx

from notes_service.accounts import auth
from tests.support.cli import run_cli
from tests.support.databases import kill_listeners, listener_pids
from tests.support.servers import cli_key, until


async def _unauthorized(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    return (await client.get("/v1/notes", headers=headers)).status_code == 401


async def test_a_cli_revocation_reaches_the_app_after_its_listener_was_killed(
    client: httpx.AsyncClient, database_url: str
) -> None:
    headers = cli_key(database_url, owner="dora")
    key_hash = auth.hash_key(headers["Authorization"].split()[1])
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200
    assert auth.KEY_CACHE.get(key_hash) is not None

    killed = await kill_listeners(database_url)
    assert killed, "the app has no listener connection"
    # Down: nothing can be heard, so the cache is dropped and every request looks its key up.
    await until(lambda: auth.KEY_CACHE.get(key_hash) is None, 5, "the cache to be dropped")

    async def listening_again() -> bool:
        pids = await listener_pids(database_url)
        return bool(pids) and not set(pids) & set(killed) and auth.KEY_CACHE.live

    await until(listening_again, 10, "the listener to reconnect")
    assert (await client.get("/v1/notes", headers=headers)).status_code == 200
    assert auth.KEY_CACHE.get(key_hash) is not None  # cached again

    key_id = run_cli("keys", "list", "--owner", "dora", database_url=database_url).stdout.split()[0]
    revoked = run_cli("keys", "revoke", key_id, database_url=database_url)
    assert revoked.returncode == 0, revoked.stderr
    await until(lambda: _unauthorized(client, headers), 1.0, "the revocation to be heard")
