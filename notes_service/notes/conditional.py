"""ETags and the If-Match / If-None-Match preconditions (RFC 9110 §8.8.3, §13.1)."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from notes_service.errors import InvalidIfMatch

_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
_BARE_TAG = re.compile(r"[\x21\x23-\x7e\x80-\xff]+")


def etag(note_id: uuid.UUID, version: int) -> str:
    # Opaque rather than "id-version": clients must not build or parse tags themselves.
    digest = hashlib.sha256(f"{note_id}:{version}".encode()).hexdigest()[:32]
    return f'"{digest}"'


@dataclass(frozen=True, slots=True)
class EntityTags:
    """A parsed If-Match or If-None-Match header: `*`, or a list of tags and whether each is
    weak. A header that does not parse holds no tags, so it matches nothing."""

    any: bool
    tags: tuple[tuple[str, bool], ...]

    @classmethod
    def parse(cls, header: str) -> EntityTags:
        if header.strip() == "*":
            return cls(any=True, tags=())
        tags, position = [], 0
        while position < len(header):
            match = _ENTITY_TAG.match(header, position)
            if match is None:
                return cls(any=False, tags=())
            tags.append((f'"{match[2]}"', match[1] is not None))
            position = match.end()
        return cls(any=False, tags=tuple(tags))

    def strong_match(self, current: str) -> bool:
        """If-Match: a weak tag never matches."""
        return self.any or any(tag == current and not weak for tag, weak in self.tags)

    def weak_match(self, current: str) -> bool:
        """If-None-Match: W/ is ignored."""
        return self.any or any(tag == current for tag, _ in self.tags)


def if_match(header: str | None) -> EntityTags | None:
    """The parsed If-Match; a header that is not `*` or quoted entity tags is a 400 saying so,
    not a 412 that would send a client to fetch the note again and fail the same way."""
    if header is None:
        return None
    tags = EntityTags.parse(header)
    if tags.any or tags.tags:
        return tags
    if _BARE_TAG.fullmatch(header.strip()):
        raise InvalidIfMatch(
            "If-Match holds an entity tag without its double quotes: send the ETag exactly as "
            f'it came, quotes included (If-Match: "{header.strip()}")'
        )
    raise InvalidIfMatch(
        'If-Match must be `*` or one or more entity tags in double quotes, as in If-Match: "…"'
    )
