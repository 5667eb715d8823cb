"""Keys over HTTP (SPEC §11): make, list and revoke the owner's keys. Every route here needs
`keys:write` (accounts/scopes.py), and a key grants only scopes it holds itself."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from notes_service.accounts import auth
from notes_service.contract import KeyCreate, KeyCreated, KeyOut
from notes_service.web.deps import CurrentOwner

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
async def create_key(data: KeyCreate, owner: CurrentOwner) -> KeyCreated:
    key = await auth.grant_key(owner, data.label, data.scopes, data.expires_at)
    return KeyCreated(
        id=key.id,
        key=key.secret,
        label=key.label,
        scopes=list(key.scopes),
        expires_at=key.expires_at,
        created_at=key.created_at,
    )


@router.get("", response_model=list[KeyOut])
async def list_keys(owner: CurrentOwner) -> list[KeyOut]:
    """The owner's keys not revoked, oldest first; never the key itself."""
    keys = await auth.active_keys(owner.owner_id)
    return [
        KeyOut(
            id=k.id,
            label=k.label,
            scopes=list(k.scopes),
            expires_at=k.expires_at,
            created_at=k.created_at,
            last_used_at=k.last_used_at,
        )
        for k in keys
    ]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(key_id: uuid.UUID, owner: CurrentOwner) -> Response:
    await auth.revoke_owner_key(owner.owner_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
