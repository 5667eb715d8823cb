"""The accounts' raw SQL (the rest goes through the Tortoise models)."""

from __future__ import annotations

# One constant statement (prepared once per connection), not a QuerySet rebuilt per request.
LOOKUP_KEY = """
SELECT k.id, k.owner_id, o.name, k.scopes::text AS scopes, k.expires_at
FROM api_keys k JOIN owners o ON o.id = k.owner_id
WHERE k.key_hash = $1 AND k.revoked_at IS NULL
"""

# Of these key ids, the ones still valid (the change streams' check while the listener is down).
VALID_KEY_IDS = """
SELECT id FROM api_keys
WHERE id = ANY($1) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
"""

# A stream token names its key by id; the key must still be live, unexpired and able to read
# notes when the token is used.
LOOKUP_KEY_BY_ID = """
SELECT k.id, k.owner_id, o.name, k.key_hash FROM api_keys k JOIN owners o ON o.id = k.owner_id
WHERE k.id = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
  AND k.scopes ? 'notes:read'
"""

# At most one write per key and minute: the WHERE skips a row another process already stamped.
TOUCH_KEY = """
UPDATE api_keys SET last_used_at = date_trunc('minute', now())
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < date_trunc('minute', now()))
"""
