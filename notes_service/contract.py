from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

TITLE_MAX = 200
BODY_MAX = 100_000
TAG_MAX = 50
TAGS_MAX = 20
BATCH_MAX = 100


# What the OpenAPI schema states of a title and a tag, so that generated clients and fuzzers
# produce values the validators below accept: no control character (C0, DEL, C1), and at least
# one character that is not whitespace. The validators stay the authority (they also trim,
# refuse lone surrogates and, for tags, normalise before checking the length).
_CONTROL = "\\x00-\\x1f\\x7f-\\x9f"
TITLE_PATTERN = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
TAG_PATTERN = f"^\\s*[^\\s,{_CONTROL}]+\\s*$"


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the driver.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return _encodable(value)


def _encodable(value: str) -> str:
    # A JSON "\ud800" escape parses to a lone surrogate, which has no UTF-8 form: asyncpg
    # would fail to encode it (a 500). Refuse it here, naming the field.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must not contain lone UTF-16 surrogates") from None
    return value


def _no_controls(value: str) -> str:
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("must not contain control characters")
    return value


def _clean_title(value: str) -> str:
    value = _no_controls(_encodable(value)).strip()
    if not value:
        raise ValueError("must not be blank")
    if len(value) > TITLE_MAX:
        raise ValueError(f"must be at most {TITLE_MAX} characters")
    return value


def clean_tag(value: str) -> str:
    # NFC so that a composed and a decomposed "é" are one tag; lowercasing can change the
    # length (e.g. "İ"), so the length is checked on the result.
    name = unicodedata.normalize("NFC", _encodable(value).strip().lower())
    if not name:
        raise ValueError("must not be blank")
    if len(name) > TAG_MAX:
        raise ValueError(f"must be at most {TAG_MAX} characters")
    for char in name:
        if char.isspace() or char == ",":
            raise ValueError("must not contain whitespace or commas")
        if unicodedata.category(char) == "Cc":
            raise ValueError("must not contain control characters")
    return name


def _tag_set(values: list[str]) -> list[str]:
    # Sorted by code point, the order in which every response lists tags.
    names = sorted(set(values))
    if len(names) > TAGS_MAX:
        raise ValueError(f"must hold at most {TAGS_MAX} distinct tags")
    return names


def _utc(value: datetime) -> datetime:
    # An offset can push a valid local time outside what a datetime holds in UTC
    # (9999-12-31T23:59:59-14:00): refuse it here rather than overflow in the driver.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


Title = Annotated[
    str,
    AfterValidator(_clean_title),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": TITLE_MAX, "pattern": TITLE_PATTERN}
    ),
]
Body = Annotated[str, Field(max_length=BODY_MAX), AfterValidator(_no_nul)]
Tag = Annotated[
    str,
    AfterValidator(clean_tag),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": TAG_MAX, "pattern": TAG_PATTERN}
    ),
]
# maxItems only in the schema: duplicates collapse first, and the limit is on distinct tags.
Tags = Annotated[
    list[Tag], Field(json_schema_extra={"maxItems": TAGS_MAX}), AfterValidator(_tag_set)
]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NoteCreate(_Input):
    title: Title
    body: Body = ""
    tags: Tags = Field(default_factory=list)
    pinned: bool = False
    archived: bool = False


class NoteBatch(_Input):
    notes: list[NoteCreate] = Field(min_length=1, max_length=BATCH_MAX)


def _never_null(schema: dict[str, Any]) -> None:
    """Drop `null` (and the `null` default) from each property of the JSON schema. Not
    `SkipJsonSchema[None]` on the fields: that makes them unions, whose errors name the union
    member in `loc`."""
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)
        kinds = [kind for kind in prop.pop("anyOf", []) if kind != {"type": "null"}]
        if len(kinds) == 1:
            prop.update(kinds[0])
        elif kinds:
            prop["anyOf"] = kinds


class NoteUpdate(_Input):
    """Every field optional; an explicit `null` is refused rather than taken as "no change"."""

    # The schema says what is accepted: a value or no field, never null (see _never_null).
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_never_null)

    title: Title | None = None
    body: Body | None = None
    tags: Tags | None = None
    pinned: bool | None = None
    archived: bool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null; leave the field out to keep it")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class NoteOut(BaseModel):
    id: uuid.UUID
    title: str
    body: str
    tags: list[str]
    pinned: bool
    archived: bool
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


# `NoteOut` as columns of the note aliased `n`, in the model's field order (a row of them
# serialises to its JSON), for the SQL of both sides. Tags sorted by code point (COLLATE "C"),
# the order every response lists them in: the row's own copy of its links, `notes.tag_names`,
# which the write side keeps ('{}' where a LEFT JOIN found no note).
NOTE_TAGS = "COALESCE(n.tag_names, '{}')"
NOTE_COLUMNS = (
    f"n.id, n.title, n.body, {NOTE_TAGS} AS tags, n.pinned, n.archived, n.version, "
    "n.created_at, n.updated_at, n.deleted_at"
)


class NotePage(BaseModel):
    items: list[NoteOut]
    next_cursor: str | None


class NoteBatchOut(BaseModel):
    items: list[NoteOut]


class RevisionOut(BaseModel):
    version: int
    title: str
    body: str
    tags: list[str]
    pinned: bool
    archived: bool
    deleted: bool
    created_at: datetime


class RevisionPage(BaseModel):
    items: list[RevisionOut]
    next_cursor: str | None


class TrashPurged(BaseModel):
    purged: int


class ImportOut(BaseModel):
    created: int
    updated: int
    skipped: int


class StreamTokenOut(BaseModel):
    token: str
    expires_at: UtcDatetime


Scope = Literal["notes:read", "notes:write", "keys:write", "webhooks:write"]


class KeyCreate(BaseModel):
    """POST /v1/keys (SPEC §11). Not strict: `expires_at` comes as an ISO 8601 string."""

    model_config = ConfigDict(extra="forbid")

    label: Annotated[str, StringConstraints(max_length=100)] = ""
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    expires_at: UtcDatetime | None = None


class KeyOut(BaseModel):
    id: uuid.UUID
    label: str
    scopes: list[str]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None = None


class KeyCreated(BaseModel):
    id: uuid.UUID
    key: str
    label: str
    scopes: list[str]
    expires_at: datetime | None
    created_at: datetime


WebhookEvent = Literal["note.created", "note.updated", "note.deleted"]


# http(s), a host (a name or a bracketed IPv6 address), an optional port,
# a path; the target itself is checked by webhooks/targets.py.
WEBHOOK_URL_PATTERN = r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(:[0-9]{1,5})?(/\S*)?$"


class WebhookCreate(_Input):
    url: Annotated[str, StringConstraints(max_length=2048, pattern=WEBHOOK_URL_PATTERN)]
    events: list[WebhookEvent] | None = Field(default=None, min_length=1, max_length=3)


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    enabled: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str


class DeliveryOut(BaseModel):
    event_id: str
    type: str
    state: str
    attempts: int
    last_status: int | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
