"""One LISTEN connection per worker: hears key revocations and feed changes as they commit.

The triggers of migrations `live_sync_notify` and `live_owners_notify` send
`NOTIFY notes_key_revoked, '<key id>'` on every revocation, and `NOTIFY notes_changes,
'<owner id>'` for a change of an owner registered in `live_owners`: this connection keeps one row
there (with its backend pid) for each owner with a change stream open in this worker, so that
writes nobody listens for pay nothing for NOTIFY. A revocation evicts the key from this
process's key cache (notes_service.accounts.auth.KEY_CACHE) and closes that key's change
streams; a change wakes the owner's streams. While the connection is down nothing can be heard:
the key cache is dropped and bypassed, and streams poll slowly. When it is back, it registers its
owners again, and every stream is woken to catch up, because anything committed meanwhile was
not announced to this process (the streams' keys are then checked in one statement by
notes_service.queries.stream_hub, as every half second while the connection is down).

LISTEN needs a session of its own, so the connection is a dedicated asyncpg connection to
`NOTES_LISTEN_DATABASE_URL` (default: the write URL), never one from a pool; behind PgBouncer in
transaction mode it must point at PostgreSQL itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from notes_service.platform import sql

logger = logging.getLogger(__name__)

CHANGES_CHANNEL = "notes_changes"
REVOKED_CHANNEL = "notes_key_revoked"
APPLICATION_NAME = "notes-service-listen"
# A dead peer that sent no FIN (a network partition) is found by a ping at this interval.
PING_INTERVAL = 5.0
_BACKOFF_FIRST, _BACKOFF_MAX = 0.1, 5.0


class RevocationCache(Protocol):
    """What the listener needs of the key cache (notes_service.accounts.auth.KeyCache): the
    platform knows no accounts, so the app hands the cache in."""

    def forget(self, key_id: uuid.UUID) -> None: ...

    def set_live(self, live: bool) -> None: ...


@dataclass(eq=False, slots=True)
class Subscription:
    """A change stream's ear: `wake` is set on news; the stream clears it before reading."""

    owner_id: int
    key_id: uuid.UUID
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    revoked: bool = False
    recheck_key: bool = False  # set when revocations may have been missed


class Listener:
    def __init__(self, url: str, key_cache: RevocationCache) -> None:
        self.url = url
        self.key_cache = key_cache
        self.connected = asyncio.Event()
        self._by_owner: dict[int, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._connection: asyncpg.Connection[Any] | None = None
        self._lock = asyncio.Lock()  # one statement at a time on the connection
        self._chores: set[asyncio.Task[None]] = set()
        # Bumped by every change heard and every wake of all: a feed read that began at
        # generation g has seen every commit announced up to g (notes_service.queries.feed_reader).
        self.generation = 0
        self.connects = 0  # successful connections so far: a revocation may be missed between
        self.last_error: str | None = None  # why the last connect failed, while down

    @property
    def up(self) -> bool:
        return self.connected.is_set()

    async def start(self, wait: float = 5.0) -> None:
        """Start listening; wait (a little) for the first connection, so that a new worker
        serves with its key cache on. If it is not up by then, it keeps trying."""
        self._task = asyncio.create_task(self._run(), name="notes-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self.connected.wait()

    async def stop(self) -> None:
        self._stopping = True  # the connection closing now is no loss: nothing to warn about
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for chore in self._chores:
            chore.cancel()
        await asyncio.gather(*self._chores, return_exceptions=True)
        self._set_down()

    async def subscribe(self, owner_id: int, key_id: uuid.UUID) -> Subscription:
        """Listen for the owner's changes. The owner's first stream here registers the owner
        before returning, so that every commit after that is announced."""
        subscription = Subscription(owner_id, key_id)
        first = owner_id not in self._by_owner
        self._by_owner.setdefault(owner_id, set()).add(subscription)
        if first:
            # Failing (the connection is down), the stream polls; the reconnect registers it.
            await self._execute(sql.ADD_OWNERS, [owner_id])
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        owner_id = subscription.owner_id
        subscribers = self._by_owner.get(owner_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._by_owner[owner_id]
                chore = asyncio.create_task(self._unregister(owner_id))
                self._chores.add(chore)
                chore.add_done_callback(self._chores.discard)

    async def _unregister(self, owner_id: int) -> None:
        async with self._lock:
            if owner_id not in self._by_owner:  # not subscribed again meanwhile
                await self._execute_locked(sql.REMOVE_OWNER, owner_id)

    async def _execute(self, sql: str, *args: object) -> None:
        async with self._lock:
            await self._execute_locked(sql, *args)

    async def _execute_locked(self, sql: str, *args: object) -> None:
        if self._connection is None:
            return
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self._connection.execute(sql, *args, timeout=PING_INTERVAL)

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        """A short statement on this worker's session connection (the feed clock's rounds, which
        then take no pool connection from requests); ConnectionError while it is down."""
        async with self._lock:
            if self._connection is None:
                raise ConnectionError("the listener is not connected")
            return await self._connection.fetch(query, *args, timeout=PING_INTERVAL)

    def key_ids(self) -> set[uuid.UUID]:
        return {s.key_id for subscribers in self._by_owner.values() for s in subscribers}

    def owner_count(self) -> int:
        return len(self._by_owner)

    def wake_all(self, *, recheck_key: bool) -> None:
        self.generation += 1
        for subscribers in self._by_owner.values():
            for subscription in subscribers:
                subscription.recheck_key |= recheck_key
                subscription.wake.set()

    def _on_change(self, payload: str) -> None:
        try:
            owner_id = int(payload)
        except ValueError:
            return
        self._wake_owner(owner_id)

    def _wake_owner(self, owner_id: int) -> None:
        self.generation += 1
        for subscription in self._by_owner.get(owner_id, ()):
            subscription.wake.set()

    def _on_revoked(self, payload: str) -> None:
        try:
            key_id = uuid.UUID(payload)
        except ValueError:
            return
        self.key_cache.forget(key_id)
        self.revoke(key_id)

    def revoke(self, key_id: uuid.UUID) -> None:
        """Close the key's streams (heard here, or found by notes_service.queries.stream_hub's
        check while this connection is down)."""
        for subscribers in self._by_owner.values():
            for subscription in subscribers:
                if subscription.key_id == key_id:
                    subscription.revoked = True
                    subscription.wake.set()

    def _notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        if channel == CHANGES_CHANNEL:
            self._on_change(str(payload))
        elif channel == REVOKED_CHANNEL:
            self._on_revoked(str(payload))

    def _set_down(self) -> None:
        if self.up and self._stopping:
            logger.info("listener: stopped")
        elif self.up:
            logger.warning("listener: connection lost; key cache bypassed, streams polling")
        self.connected.clear()
        self.key_cache.set_live(False)

    async def _run(self) -> None:
        delay = _BACKOFF_FIRST
        while True:
            try:
                connection = await asyncpg.connect(
                    self.url,
                    timeout=10,
                    statement_cache_size=0,
                    server_settings={"application_name": APPLICATION_NAME},
                )
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                self.last_error = type(exc).__name__
                logger.warning("listener: cannot connect (%s); retry in %.1fs", type(exc), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            try:
                await self._session(connection)
                delay = _BACKOFF_FIRST  # it was up: the next connect is tried at once
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                pass
            finally:
                self._connection = None
                self._set_down()
                self.wake_all(recheck_key=False)  # streams switch to polling
                connection.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)

    async def _session(self, connection: asyncpg.Connection[Any]) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(REVOKED_CHANNEL, self._notified)
        await connection.add_listener(CHANGES_CHANNEL, self._notified)
        async with self._lock:  # a stream subscribing meanwhile registers after this
            await connection.execute(sql.CLEAR_OWNERS)
            await connection.execute(sql.ADD_OWNERS, list(self._by_owner))
            self._connection = connection
        # Only now is every later commit heard: turn the cache on, then let every stream catch
        # up on (and re-check its key for) whatever happened before.
        self.key_cache.set_live(True)
        self.last_error = None
        self.connects += 1
        self.connected.set()
        logger.info("listener: listening on %s", self.url.rsplit("@", 1)[-1])
        # Revocations missed while down are found by one look-up of all the streams' keys
        # (notes_service.queries.stream_hub, on `connects` changing), not one per stream.
        self.wake_all(recheck_key=False)
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), PING_INTERVAL)
                return
            async with self._lock:
                # Doubles as the ping: an owner whose registration went missing (a row deleted
                # by hand, a restore) is registered again, and its streams catch up on what
                # committed unannounced meanwhile.
                rows = await connection.fetch(
                    sql.RESTORE_OWNERS, list(self._by_owner), timeout=PING_INTERVAL
                )
            for row in rows:
                logger.warning("listener: owner %s was not registered; registered again", row[0])
                self._wake_owner(row[0])
