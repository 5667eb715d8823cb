"""Owner names, as the CLI accepts them: they end up in logs, URLs of tooling and metrics."""

from __future__ import annotations

import re

OWNER_RULE = (
    "1-100 characters: letters, digits, '.', '_', '-' and '@', starting with a letter or digit"
)
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")  # 100 = owners.name max_length


def check_owner_name(name: str) -> str:
    """The name unchanged if it is valid; otherwise a ValueError that says what is wrong.
    Whitespace is refused rather than trimmed, so `" alice"` never silently means `alice`."""
    if not name.strip():
        raise ValueError("an owner name cannot be empty")
    if name != name.strip():
        raise ValueError(f"{name!r} has leading or trailing whitespace")
    if not _OWNER.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid owner name ({OWNER_RULE})")
    return name
