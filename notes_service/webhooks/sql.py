"""The webhooks' raw SQL: the feed walk that feeds deliveries, and the delivery queue."""

from __future__ import annotations

# The feed's own statement pieces (queries/sql.py, the change feed of issue 18), read here
# unchanged: a delivery's `data` is exactly the feed's entry.
from notes_service.queries.sql import _CHANGE_JSON, _CHANGE_OP, _FROM_CHANGED, _changes

# The owner's feed after a position, one entry per row (the same entry as GET /v1/changes).
FEED_AFTER = (
    _changes("$1", "CAST($2 AS bigint)", "CAST($3 AS bigint)", "CAST($4 AS integer)")
    + f"""
SELECT n.tick, n.seq, n.change_id, {_CHANGE_OP} AS op, {_CHANGE_JSON} AS entry
{_FROM_CHANGED}
ORDER BY n.i
"""
)

# Where a new webhook starts: after the owner's newest positioned change.
FEED_HEAD = """
SELECT tick, seq FROM feed WHERE viewer_id = $1 AND tick IS NOT NULL
ORDER BY tick DESC, seq DESC LIMIT 1
"""

# Enabled webhooks whose owner's feed moved past their position; a worker holds each until its
# transaction commits (the enqueue and the new position together), and the others skip it.
CLAIM_WEBHOOKS = """
SELECT w.id, w.owner_id, w.events::text AS events, w.feed_tick, w.feed_seq
FROM webhooks w
WHERE w.enabled AND EXISTS (
    SELECT 1 FROM feed f
    WHERE f.viewer_id = w.owner_id AND f.tick IS NOT NULL
      AND (f.tick, f.seq) > (w.feed_tick, w.feed_seq))
LIMIT $1
FOR UPDATE OF w SKIP LOCKED
"""

# A round's changes for one webhook in one statement (ids follow the feed's order).
ENQUEUE = """
INSERT INTO webhook_deliveries
    (webhook_id, event_id, type, note_id, payload, state, attempts, next_attempt_at, created_at)
SELECT $1, u.e, u.t, u.n, CAST(u.b AS jsonb), 'pending', 0, now(), now()
FROM unnest(CAST($2 AS text[]), CAST($3 AS text[]), CAST($4 AS uuid[]), CAST($5 AS text[]))
     WITH ORDINALITY AS u(e, t, n, b, i)
ORDER BY u.i
"""

ADVANCE = "UPDATE webhooks SET feed_tick = $2, feed_seq = $3 WHERE id = $1"

# Due deliveries, at most one per (webhook, note) and the oldest of the note first, so a note's
# changes reach the receiver in feed order. Each is leased (next_attempt_at pushed past the
# attempt's timeout) before the attempt: a worker that dies mid-attempt leaves it to another
# once the lease ends.
CLAIM_DUE = """
WITH due AS (
    SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND w.enabled
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries e
          WHERE e.webhook_id = d.webhook_id AND e.note_id = d.note_id
            AND e.state = 'pending' AND e.id < d.id)
    ORDER BY d.next_attempt_at, d.id
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $2)
FROM due, webhooks w
WHERE d.id = due.id AND w.id = d.webhook_id
RETURNING d.id, d.event_id, d.payload::text AS payload, d.attempts, w.id AS webhook_id,
          w.url, w.secret
"""

# A round's outcomes, one statement each kind: (delivery ids, statuses[, delays]).
DELIVERED = """
UPDATE webhook_deliveries d
SET state = 'delivered', attempts = d.attempts + 1, last_status = u.s, delivered_at = now(),
    next_attempt_at = NULL
FROM unnest(CAST($1 AS bigint[]), CAST($2 AS integer[])) AS u(id, s)
WHERE d.id = u.id AND d.state = 'pending'
"""

RESET_FAILURES = """
UPDATE webhooks SET consecutive_failures = 0
WHERE id = ANY(CAST($1 AS uuid[])) AND consecutive_failures <> 0
"""

RETRY = """
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, last_status = u.s,
    next_attempt_at = now() + make_interval(secs => u.delay)
FROM unnest(CAST($1 AS bigint[]), CAST($2 AS integer[]), CAST($3 AS float8[]))
     AS u(id, s, delay)
WHERE d.id = u.id AND d.state = 'pending'
"""

FAILED = """
UPDATE webhook_deliveries
SET state = 'failed', attempts = attempts + 1, last_status = $2, next_attempt_at = NULL
WHERE id = $1 AND state = 'pending'
"""

# A failed delivery: `disable_after` of them in a row disable the webhook.
COUNT_FAILURE = """
UPDATE webhooks
SET consecutive_failures = consecutive_failures + 1,
    enabled = enabled AND consecutive_failures + 1 < $2
WHERE id = $1
"""

DELIVERIES_PAGE = """
SELECT id, event_id, type, attempts, last_status, delivered_at, next_attempt_at, state
FROM webhook_deliveries
WHERE webhook_id = $1 AND id < $2
ORDER BY id DESC
LIMIT $3
"""
