"""Opaque, tamper-evident keyset cursors, bound to the query they came from: the one place that
knows what a cursor holds, for every route that pages (the SQL modules own the keyset
predicates that use the positions).

A cursor is `base64url(json payload) "." base64url(hmac)`. The payload carries the position
(the sort key of the last row served) and a digest of the query's binding (route, owner, sort
and filters), so a cursor replayed against another query is refused rather than misread.

A cursor signed with a known (development) secret can carry any values: each family's `decode_*`
lets through only what its columns' types can hold (else PostgreSQL's cast fails, a 500).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from notes_service.errors import CursorExpired, InvalidCursor

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
    @functools.lru_cache(maxsize=4096)
    def binding(**query: Any) -> str:
        # Cached: the same query (owner, sort, filters) repeats page after page; every value
        # is hashable (tuples, frozen dataclasses).
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


def cursor_time(raw: Any) -> datetime:
    # Only an aware time that fits in UTC may reach the driver (else a naive-time error or an
    # OverflowError).
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("naive time")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


# GET /v1/notes: the sort value and id of the last note served.
@dataclass(frozen=True, slots=True)
class Position:
    """Where the previous page ended. `as_of` hides notes updated after the first page was
    served: in an updated_at sort they would move behind the cursor and show up twice."""

    sort_value: datetime
    id: uuid.UUID
    as_of: datetime | None


def list_binding(codec: CursorCodec, owner_id: int, sort: str, filters: object) -> str:
    return codec.binding(route="notes", owner=owner_id, sort=sort, filters=filters)


def decode_list(codec: CursorCodec, cursor: str, binding: str) -> Position:
    raw = codec.decode(cursor, binding)
    try:
        sort_value, note_id, as_of = raw
        return Position(
            cursor_time(sort_value),
            uuid.UUID(note_id),
            cursor_time(as_of) if as_of is not None else None,
        )
    except (TypeError, ValueError, AttributeError):
        raise InvalidCursor("The cursor is malformed") from None


def encode_list(
    codec: CursorCodec,
    binding: str,
    sort_value: datetime,
    note_id: uuid.UUID,
    sort: str,
    previous: Position | None,
) -> str:
    as_of = None
    if sort.endswith("updated_at"):
        as_of = previous.as_of if previous and previous.as_of else datetime.now(UTC)
    return codec.encode(
        binding, [sort_value.isoformat(), str(note_id), as_of and as_of.isoformat()]
    )


# GET /v1/search: the rank and id of the last hit, and the walk's candidate set.
SearchMode = Literal["fts", "fuzzy"]


@dataclass(frozen=True, slots=True)
class SearchPosition:
    """Where the previous search page ended, and the candidate set of that walk (see
    `queries/search_sql.py`): notes updated up to `as_of`, none older than `floor` when set."""

    rank: float
    id: uuid.UUID
    as_of: datetime | None
    floor: tuple[datetime, uuid.UUID] | None


def search_binding(
    codec: CursorCodec, owner_id: int, q: str, tags: tuple[str, ...], fuzzy: bool
) -> str:
    return codec.binding(route="search", owner=owner_id, q=q, tags=tags, fuzzy=fuzzy)


def decode_search(
    codec: CursorCodec, cursor: str, binding: str
) -> tuple[SearchMode, SearchPosition]:
    raw = codec.decode(cursor, binding)
    try:
        # Cursors from before the rank limit carry only [mode, rank, id].
        mode, rank, note_id, as_of, floor = raw if len(raw) == 5 else [*raw, None, None]
        if mode not in ("fts", "fuzzy"):
            raise ValueError(mode)
        # Only a finite JSON number: a NaN or infinite rank has no place in the keyset.
        if type(rank) not in (int, float) or not math.isfinite(rank):
            raise ValueError(rank)
        position = SearchPosition(
            float(rank),
            uuid.UUID(note_id),
            cursor_time(as_of) if as_of else None,
            (cursor_time(floor[0]), uuid.UUID(floor[1])) if floor else None,
        )
        return mode, position
    except (TypeError, ValueError, IndexError, AttributeError):
        raise InvalidCursor("The cursor is malformed") from None


def encode_search(
    codec: CursorCodec,
    binding: str,
    mode: SearchMode,
    rank: float,
    note_id: uuid.UUID,
    as_of: datetime | None,
    floor: tuple[datetime, uuid.UUID] | None,
) -> str:
    position = [
        mode,
        rank,
        str(note_id),
        as_of and as_of.isoformat(),
        floor and [floor[0].isoformat(), str(floor[1])],
    ]
    return codec.encode(binding, position)


# GET /v1/changes and its stream: the (tick, seq) of the last change served, the viewer's own
# clock (migration feed_clock). The feed's first format held (transaction id as text, seq).
FeedPosition = tuple[int, int]
FEED_START: FeedPosition = (0, 0)
_BIGINT_MAX = 2**63 - 1
_OLD_XID = re.compile(r"[0-9]{1,20}")


def feed_binding(codec: CursorCodec, owner_id: int) -> str:
    return codec.binding(route="changes", owner=owner_id)


def decode_feed(codec: CursorCodec, cursor: str, binding: str) -> FeedPosition:
    raw = codec.decode(cursor, binding)
    if len(raw) == 2 and all(type(v) is int and 0 <= v <= _BIGINT_MAX for v in raw):
        return raw[0], raw[1]
    if (
        len(raw) == 2
        and isinstance(raw[0], str)
        and _OLD_XID.fullmatch(raw[0])
        and int(raw[0]) < 2**64
        and type(raw[1]) is int
        and 0 <= raw[1] <= _BIGINT_MAX
    ):
        raise CursorExpired()
    raise InvalidCursor()


def encode_feed(codec: CursorCodec, binding: str, position: FeedPosition) -> str:
    return codec.encode(binding, list(position))


# GET /v1/notes/{id}/revisions: the version of the last revision served.
def revisions_binding(codec: CursorCodec, note_id: uuid.UUID) -> str:
    return codec.binding(route="revisions", note=str(note_id))


def decode_revisions(codec: CursorCodec, cursor: str, binding: str) -> int:
    position = codec.decode(cursor, binding)
    if len(position) != 1 or type(position[0]) is not int or not 1 <= position[0] < 2**31:
        raise InvalidCursor()
    version: int = position[0]
    return version


def encode_revisions(codec: CursorCodec, binding: str, version: int) -> str:
    return codec.encode(binding, [version])
