"""API keys: `nsk_<random>`, stored only as a SHA-256 hash and looked up by that hash."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from fastapi import Request
from tortoise import connections
from tortoise.transactions import in_transaction

from notes_service.accounts import sql
from notes_service.accounts.models import ApiKey, Owner
from notes_service.accounts.scopes import ALL_SCOPES, required_scope
from notes_service.errors import InsufficientScope, KeyExpired, NotFound, Unauthorized

logger = logging.getLogger(__name__)

KEY_PREFIX = "nsk_"
_KEY_SHAPE = re.compile(r"nsk_[A-Za-z0-9_-]{20,200}")


@dataclass(frozen=True, slots=True)
class Principal:
    owner_id: int
    owner_name: str
    key_id: uuid.UUID
    scopes: frozenset[str] = frozenset(ALL_SCOPES)
    expires_at: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class NewKey:
    id: uuid.UUID
    owner: str
    label: str
    secret: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    created_at: datetime


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _ordered(scopes: Iterable[str]) -> tuple[str, ...]:
    wanted = set(scopes)
    unknown = wanted - set(ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    return tuple(s for s in ALL_SCOPES if s in wanted)


async def create_key(
    owner_name: str,
    label: str = "",
    *,
    secret: str | None = None,
    scopes: Iterable[str] = ALL_SCOPES,
    expires_at: datetime | None = None,
) -> NewKey:
    """Create the owner if needed and a key for it, in one transaction."""
    secret = secret or generate_secret()
    granted = _ordered(scopes)
    async with in_transaction():
        owner, _ = await Owner.get_or_create(name=owner_name)
        key = await ApiKey.create(
            owner=owner,
            label=label,
            key_hash=hash_key(secret),
            scopes=list(granted),
            expires_at=expires_at,
        )
    return NewKey(
        id=key.id,
        owner=owner.name,
        label=label,
        secret=secret,
        scopes=granted,
        expires_at=expires_at,
        created_at=key.created_at,
    )


async def grant_key(
    principal: Principal, label: str, scopes: Iterable[str], expires_at: datetime | None
) -> NewKey:
    """A key made over HTTP: it may hold only scopes the key asking for it holds, and it expires
    no later than that key."""
    granted = _ordered(scopes)
    missing = [s for s in granted if s not in principal.scopes]
    if missing:
        raise InsufficientScope(
            missing[0], f"A key can grant only scopes it holds: it lacks `{missing[0]}`"
        )
    if principal.expires_at is not None and (
        expires_at is None or expires_at > principal.expires_at
    ):
        expires_at = principal.expires_at
    return await create_key(principal.owner_name, label, scopes=granted, expires_at=expires_at)


async def list_keys(owner_name: str) -> list[ApiKey]:
    return await ApiKey.filter(owner__name=owner_name).order_by("created_at")


async def active_keys(owner_id: int) -> list[ApiKey]:
    return await ApiKey.filter(owner_id=owner_id, revoked_at=None).order_by("created_at")


async def owner_keys(owner_name: str) -> list[ApiKey] | None:
    """The owner's keys; None for an unknown owner (an error, as for `export`)."""
    if not await Owner.exists(name=owner_name):
        return None
    return await list_keys(owner_name)


async def revoke_owner_key(owner_id: int, key_id: uuid.UUID) -> None:
    """DELETE /v1/keys/{id}: only the owner's own keys; NotFound for any other."""
    KEY_CACHE.forget(key_id)
    updated = await ApiKey.filter(id=key_id, owner_id=owner_id, revoked_at=None).update(
        revoked_at=datetime.now(UTC)
    )
    if not updated:
        raise NotFound(f"No active key with id {key_id}")


async def revoke_key(key_id: uuid.UUID) -> bool:
    """Every process hears it: a trigger on api_keys sends NOTIFY notes_key_revoked at commit."""
    KEY_CACHE.forget(key_id)
    updated = await ApiKey.filter(id=key_id, revoked_at=None).update(revoked_at=datetime.now(UTC))
    return updated > 0


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthorized("Send an API key as `Authorization: Bearer nsk_...`")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise Unauthorized("The Authorization header must use the Bearer scheme: `Bearer nsk_...`")
    if not _KEY_SHAPE.fullmatch(token):
        raise Unauthorized(
            "The bearer token is not shaped like an API key (`nsk_` and 20-200 URL-safe "
            "characters); create one with `notes-service keys create`"
        )
    return token


def key_hash_of(request: Request) -> str:
    return hash_key(_bearer_token(request))


class KeyCache:
    """Key hash -> principal for `ttl` seconds, so a busy client does not pay a lookup on every
    request. It is used only while this process hears revocations (`live`, set by the listener
    in notes_service.platform.listener): a revocation anywhere evicts the key here at once.
    While the listener is down the cache is empty and bypassed. A `ttl` of 0 disables it."""

    def __init__(self, ttl: float = 0.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.live = False
        # Bumped by every eviction: a lookup that started before a revocation was heard must
        # not put the key back (see `put`).
        self.generation = 0
        self._entries: dict[str, tuple[float, Principal]] = {}

    def set_live(self, live: bool) -> None:
        self.live = live
        self.clear()

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def get(self, key_hash: str) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(key_hash, None)
            return None
        return entry[1]

    def put(self, key_hash: str, principal: Principal, generation: int) -> None:
        if self.ttl <= 0 or not self.live or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))  # the oldest insertion
        self._entries[key_hash] = (time.monotonic() + self.ttl, principal)

    def forget(self, key_id: uuid.UUID) -> None:
        self.generation += 1
        for key_hash, (_, principal) in list(self._entries.items()):
            if principal.key_id == key_id:
                self._entries.pop(key_hash, None)


KEY_CACHE = KeyCache()


async def lookup(key_hash: str) -> Principal | None:
    rows = await connections.get("default").execute_query_dict(sql.LOOKUP_KEY, [key_hash])
    if not rows:
        return None
    row = rows[0]
    return Principal(
        owner_id=row["owner_id"],
        owner_name=row["name"],
        key_id=row["id"],
        scopes=frozenset(orjson.loads(row["scopes"])),
        expires_at=row["expires_at"],
    )


class UsageStamps:
    """`last_used_at` to the minute without a write per request: this process writes a key's
    stamp at most once a minute, off the request's path (a task), and the statement itself skips
    a row another process already stamped this minute."""

    def __init__(self) -> None:
        self._minutes: dict[uuid.UUID, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def touch(self, key_id: uuid.UUID) -> None:
        minute = int(time.time() // 60)
        if self._minutes.get(key_id) == minute:
            return
        if len(self._minutes) >= 100_000:
            self._minutes.clear()
        self._minutes[key_id] = minute
        task = asyncio.create_task(self._write(key_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, key_id: uuid.UUID) -> None:
        try:
            await connections.get("default").execute_query(sql.TOUCH_KEY, [key_id])
        except Exception as exc:  # a stamp is not worth failing anything for; next minute retries
            logger.warning("last_used_at of key %s not written: %s", key_id, exc)
            self._minutes.pop(key_id, None)

    async def flush(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)


USAGE = UsageStamps()


def _request_path(request: Request) -> str:
    path: str = request.scope["path"]
    root = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class KeyWatch:
    """Is a key still valid? Asked between the lines of a long response (an export), so that a
    revocation stops it within a second. Free while this process hears revocations (the cache's
    generation moves only on an eviction; then one lookup); while it cannot hear them, one
    lookup at most every `interval` seconds."""

    def __init__(self, key_hash: str, interval: float = 0.5, cache: KeyCache = KEY_CACHE) -> None:
        self.key_hash = key_hash
        self.interval = interval
        self.cache = cache
        self.generation = cache.generation
        self.checked = time.monotonic()

    async def revoked(self) -> bool:
        now = time.monotonic()
        if self.cache.live and self.cache.generation == self.generation:
            return False
        if not self.cache.live and now - self.checked < self.interval:
            return False
        self.generation, self.checked = self.cache.generation, now
        return await lookup(self.key_hash) is None


async def valid_key_ids(key_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these keys are neither revoked nor gone: one statement for any number."""
    rows = await connections.get("default").execute_query_dict(sql.VALID_KEY_IDS, [list(key_ids)])
    return {row["id"] for row in rows}


async def authenticate(request: Request) -> Principal:
    """The key of the request, checked for expiry and for the scope its route needs
    (accounts/scopes.py): every authenticated route goes through here."""
    key_hash = key_hash_of(request)
    principal = KEY_CACHE.get(key_hash)
    if principal is None:
        generation = KEY_CACHE.generation
        principal = await lookup(key_hash)
        if principal is None:
            raise Unauthorized("The API key is unknown or revoked")
        KEY_CACHE.put(key_hash, principal, generation)
    if principal.expired():
        raise KeyExpired()
    scope = required_scope(request.method, _request_path(request))
    if scope not in principal.scopes:
        raise InsufficientScope(scope)
    request.state.owner = principal.owner_name
    USAGE.touch(principal.key_id)
    return principal
