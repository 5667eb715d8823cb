from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

TITLE_MAX = 200
BODY_MAX = 100_000


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


Title = Annotated[str, AfterValidator(_clean_title)]
Body = Annotated[str, Field(max_length=BODY_MAX), AfterValidator(_no_nul)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NoteCreate(_Input):
    title: Title
    body: Body = ""
    pinned: bool = False
    archived: bool = False


class NoteUpdate(_Input):
    """Every field optional; an explicit `null` is refused rather than taken as "no change"."""

    title: Title | None = None
    body: Body | None = None
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
    pinned: bool
    archived: bool
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class NotePage(BaseModel):
    items: list[NoteOut]
    next_cursor: str | None
