"""API keys: `nsk_<random>`, stored only as a SHA-256 hash and looked up by that hash."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from tortoise import connections
from tortoise.transactions import in_transaction

from notes_service.accounts import sql
from notes_service.accounts.models import ApiKey, Owner
from notes_service.errors import Unauthorized

KEY_PREFIX = "nsk_"
_KEY_SHAPE = re.compile(r"nsk_[A-Za-z0-9_-]{20,200}")


@dataclass(frozen=True, slots=True)
class Principal:
    owner_id: int
    owner_name: str
    key_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class NewKey:
    id: uuid.UUID
    owner: str
    label: str
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_key(owner_name: str, label: str = "", *, secret: str | None = None) -> NewKey:
    """Create the owner if needed and a key for it, in one transaction."""
    secret = secret or generate_secret()
    async with in_transaction():
        owner, _ = await Owner.get_or_create(name=owner_name)
        key = await ApiKey.create(owner=owner, label=label, key_hash=hash_key(secret))
    return NewKey(id=key.id, owner=owner.name, label=label, secret=secret)


async def list_keys(owner_name: str) -> list[ApiKey]:
    return await ApiKey.filter(owner__name=owner_name).order_by("created_at")


async def owner_keys(owner_name: str) -> list[ApiKey] | None:
    """The owner's keys; None for an unknown owner (an error, as for `export`)."""
    if not await Owner.exists(name=owner_name):
        return None
    return await list_keys(owner_name)


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
    return Principal(owner_id=rows[0]["owner_id"], owner_name=rows[0]["name"], key_id=rows[0]["id"])


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
    key_hash = key_hash_of(request)
    principal = KEY_CACHE.get(key_hash)
    if principal is None:
        generation = KEY_CACHE.generation
        principal = await lookup(key_hash)
        if principal is None:
            raise Unauthorized("The API key is unknown or revoked")
        KEY_CACHE.put(key_hash, principal, generation)
    request.state.owner = principal.owner_name
    return principal
