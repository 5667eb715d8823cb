"""Idempotency-Key for creates (SPEC §4).

Everything happens in the transaction that does the work:
1. `pg_try_advisory_xact_lock` on (owner, key). Another transaction holding it means the same
   key is in flight: 409 at once, rather than holding a pooled connection while waiting.
2. Under the lock, a stored record (younger than the TTL) is replayed, or refused with 422 when
   it was made for another request.
3. Otherwise the caller does the work and `remember()` inserts the record; both commit together.

The lock is released only after the commit is visible, so whoever takes it next sees the
record. A crash or an error rolls back the work and the record alike: nothing stays "in flight".
The unique (owner, key) index backs this up: a second insert could only fail, never duplicate.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import BaseDBAsyncClient

from notes_service.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from notes_service.notes.models import IdempotencyRecord
from notes_service.notes.sql import TRY_LOCK


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    key: str
    fingerprint: str
    ttl: timedelta


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The request a key was first used with: its route and its JSON body, with key order and
    whitespace not counting."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def lock_id(owner_id: int, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{owner_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def replay(db: BaseDBAsyncClient, owner_id: int, key: IdempotencyKey) -> Outcome | None:
    """The stored outcome for this key, or None when the caller should do the work."""
    _, rows = await db.execute_query(TRY_LOCK, [lock_id(owner_id, key.key)])
    if not rows[0]["locked"]:
        raise IdempotencyKeyInFlight(
            "A request with this Idempotency-Key is still being processed; retry shortly"
        )
    expired_before = datetime.now(UTC) - key.ttl
    await IdempotencyRecord.filter(
        owner_id=owner_id, key=key.key, created_at__lt=expired_before
    ).delete()
    record = await IdempotencyRecord.get_or_none(owner_id=owner_id, key=key.key)
    if record is None:
        return None
    if record.request_hash != key.fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request")
    return Outcome(status=record.status_code, body=record.response, replayed=True)


async def remember(owner_id: int, key: IdempotencyKey, outcome: Outcome) -> None:
    await IdempotencyRecord.create(
        owner_id=owner_id,
        key=key.key,
        request_hash=key.fingerprint,
        status_code=outcome.status,
        response=outcome.body,
        created_at=datetime.now(UTC),
    )


async def purge_expired(ttl: timedelta) -> int:
    return await IdempotencyRecord.filter(created_at__lt=datetime.now(UTC) - ttl).delete()
