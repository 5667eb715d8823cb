"""API keys: `nsk_<random>`, stored only as a SHA-256 hash and looked up by that hash."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from tortoise.transactions import in_transaction

from notes_service.notes.models import ApiKey, Owner
from notes_service.problems import Unauthorized

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


async def revoke_key(key_id: uuid.UUID) -> bool:
    updated = await ApiKey.filter(id=key_id, revoked_at=None).update(revoked_at=datetime.now(UTC))
    return updated > 0


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthorized("Send an API key as `Authorization: Bearer nsk_...`")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _KEY_SHAPE.fullmatch(token):
        raise Unauthorized("The Authorization header is not a Bearer API key")
    return token


async def authenticate(request: Request) -> Principal:
    token = _bearer_token(request)
    row = await ApiKey.filter(key_hash=hash_key(token), revoked_at=None).values(
        "id", "owner_id", "owner__name"
    )
    if not row:
        raise Unauthorized("The API key is unknown or revoked")
    principal = Principal(
        owner_id=row[0]["owner_id"], owner_name=row[0]["owner__name"], key_id=row[0]["id"]
    )
    request.state.owner = principal.owner_name
    return principal
