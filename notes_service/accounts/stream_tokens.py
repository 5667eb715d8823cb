"""Stream tokens (SPEC §8): `EventSource` cannot send `Authorization`, so a browser first trades
its API key for a short-lived token and opens the change stream with `?access_token=`.

A token is `nst_` + base64url(json {key id, expiry}) + "." + base64url(HMAC-SHA256), signed with
a key derived from NOTES_CURSOR_SECRET (another derivation than the cursors'). It names the API
key it came from, which must still be live when the token is used: a revocation stops it at
once, with no cache in between. Nothing stores tokens, and nothing logs them (the access log
writes the path without its query string)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import connections

from notes_service.accounts import sql
from notes_service.accounts.auth import Principal
from notes_service.errors import Unauthorized

PREFIX = "nst_"
LIFETIME = 300  # seconds: SPEC §8's "at most 5 minutes"
MAX_CHARS = 512
_SIG_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class StreamCaller:
    principal: Principal
    key_hash: str  # what the stream re-checks its key by


class StreamTokens:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"notes-service stream token\x00" + secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIG_BYTES]

    def issue(self, key_id: uuid.UUID, now: float | None = None) -> tuple[str, datetime]:
        expires = int((time.time() if now is None else now) + LIFETIME)
        payload = json.dumps({"k": str(key_id), "e": expires}, separators=(",", ":")).encode()
        token = f"{PREFIX}{_b64(payload)}.{_b64(self._sign(payload))}"
        return token, datetime.fromtimestamp(expires, UTC)

    def key_id(self, token: str) -> uuid.UUID:
        """The key a valid, unexpired token came from; else 401."""
        if len(token) > MAX_CHARS or not token.startswith(PREFIX) or token.count(".") != 1:
            raise Unauthorized("The access_token is not a stream token")
        body, signature = token.removeprefix(PREFIX).split(".")
        try:
            payload, sig = _unb64(body), _unb64(signature)
        except (binascii.Error, ValueError):
            raise Unauthorized("The access_token is not a stream token") from None
        if not hmac.compare_digest(sig, self._sign(payload)):
            raise Unauthorized("The access_token was not issued by this service or was altered")
        data = json.loads(payload)
        if data["e"] <= time.time():
            raise Unauthorized(
                "The stream token has expired; get a new one from POST /v1/changes/stream-tokens"
            )
        return uuid.UUID(data["k"])

    async def caller(self, token: str) -> StreamCaller:
        key_id = self.key_id(token)
        rows = await connections.get("default").execute_query_dict(sql.LOOKUP_KEY_BY_ID, [key_id])
        if not rows:
            raise Unauthorized("The API key this stream token came from is revoked")
        row = rows[0]
        principal = Principal(owner_id=row["owner_id"], owner_name=row["name"], key_id=row["id"])
        return StreamCaller(principal, row["key_hash"])
