"""schemathesis hooks for .ci/fuzz: headers whose valid values only the server's state decides.

A generated `Idempotency-Key` is reused across examples (the server rightly answers 422
`idempotency-key-reused` to a new body), and a generated `If-Match` can never equal a note's
current ETag (412). So a well-formed key becomes a fresh one, and an `If-Match` becomes the
note's current ETag, as a real client would send: the write paths are then reached. Malformed
values are left as generated, for the refusal paths; but an `If-Match` that schemathesis makes
without regard to its documented pattern (`0`, `null`, in the coverage phase) for a note that
does not exist becomes a quoted tag: else the 400 `invalid-if-match` (tests/test_conditional.py)
would be most of what the operation answers."""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any

import httpx
import schemathesis

_KEY = re.compile(r"[\x20-\x7e]{1,255}")


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers
    if not headers:
        return
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and _KEY.fullmatch(key):
        headers["Idempotency-Key"] = uuid.uuid4().hex
    note_id = (case.path_parameters or {}).get("note_id")
    if "If-Match" in headers and headers["If-Match"] != "*" and note_id:
        response = httpx.get(
            f"{case.operation.base_url.rstrip('/')}/v1/notes/{note_id}",
            headers={"Authorization": f"Bearer {os.environ['NOTES_FUZZ_KEY']}"},
            timeout=30,
        )
        if response.status_code == 200:
            headers["If-Match"] = response.headers["ETag"]
        elif isinstance(headers["If-Match"], str) and '"' not in headers["If-Match"]:
            headers["If-Match"] = json.dumps(headers["If-Match"], ensure_ascii=True)


@schemathesis.serializer("application/x-ndjson")
def ndjson(context: Any, value: Any) -> bytes:
    """`POST /v1/import` takes NDJSON, which schemathesis cannot write: each generated string
    becomes one note line, its printable characters as the title, so the import path runs.
    Malformed lines are the test suite's business (tests/test_transfer.py and others)."""
    if isinstance(value, bytes):  # the schema says `format: binary`
        text = value.decode("latin-1")
    else:
        text = value if isinstance(value, str) else json.dumps(value)
    title = "".join(ch for ch in text if ch.isprintable()).strip()[:200] or "fuzz"
    return (json.dumps({"title": title}) + "\n").encode()
