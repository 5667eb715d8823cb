from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

TITLE_MAX = 200
BODY_MAX = 100_000
TAG_MAX = 50
TAGS_MAX = 20
BATCH_MAX = 100


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the driver.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _clean_title(value: str) -> str:
    value = _no_nul(value.strip())
    if not value:
        raise ValueError("must not be blank")
    if len(value) > TITLE_MAX:
        raise ValueError(f"must be at most {TITLE_MAX} characters")
    return value


def clean_tag(value: str) -> str:
    # NFC so that a composed and a decomposed "é" are one tag; lowercasing can change the
    # length (e.g. "İ"), so the length is checked on the result.
    name = unicodedata.normalize("NFC", value.strip().lower())
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


Title = Annotated[str, AfterValidator(_clean_title)]
Body = Annotated[str, Field(max_length=BODY_MAX), AfterValidator(_no_nul)]
Tags = Annotated[list[Annotated[str, AfterValidator(clean_tag)]], AfterValidator(_tag_set)]


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


class NoteUpdate(_Input):
    """Every field optional; an explicit `null` is refused rather than taken as "no change"."""

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
