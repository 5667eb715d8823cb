"""Opaque, tamper-evident keyset cursors, bound to the query they came from.

A cursor is `base64url(json payload) "." base64url(hmac)`. The payload carries the position
(the sort key of the last row served) and a digest of the query's binding (route, owner, sort
and filters), so a cursor replayed against another query is refused rather than misread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from notes_service.errors import InvalidCursor

_SIG_BYTES = 16
_MAX_CURSOR_CHARS = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"notes-service cursor\x00" + secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIG_BYTES]

    @staticmethod
    def binding(**query: Any) -> str:
        canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def encode(self, binding: str, position: list[Any]) -> str:
        payload = json.dumps({"b": binding, "p": position}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, cursor: str, binding: str) -> list[Any]:
        if len(cursor) > _MAX_CURSOR_CHARS or cursor.count(".") != 1:
            raise InvalidCursor("The cursor is malformed")
        body, signature = cursor.split(".")
        try:
            payload, sig = _unb64(body), _unb64(signature)
        except (binascii.Error, ValueError):
            raise InvalidCursor("The cursor is malformed") from None
        if not hmac.compare_digest(sig, self._sign(payload)):
            raise InvalidCursor("The cursor was not issued by this service or was altered")
        data = json.loads(payload)
        if data.get("b") != binding:
            raise InvalidCursor(
                "The cursor belongs to a different query; repeat the sort and filters it came from"
            )
        position = data.get("p")
        if not isinstance(position, list):
            raise InvalidCursor("The cursor is malformed")
        return position
