"""The accounts' raw SQL (the rest goes through the Tortoise models)."""

from __future__ import annotations

# One constant statement (prepared once per connection), not a QuerySet rebuilt per request.
LOOKUP_KEY = """
SELECT k.id, k.owner_id, o.name FROM api_keys k JOIN owners o ON o.id = k.owner_id
WHERE k.key_hash = $1 AND k.revoked_at IS NULL
"""

# Of these key ids, the ones still valid (the change streams' check while the listener is down).
VALID_KEY_IDS = "SELECT id FROM api_keys WHERE id = ANY($1) AND revoked_at IS NULL"

# A stream token names its key by id; the key must still be live when the token is used.
LOOKUP_KEY_BY_ID = """
SELECT k.id, k.owner_id, o.name, k.key_hash FROM api_keys k JOIN owners o ON o.id = k.owner_id
WHERE k.id = $1 AND k.revoked_at IS NULL
"""
