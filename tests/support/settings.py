"""The settings the tests' app runs with, where a test needs to know them."""

from __future__ import annotations

# Long: a revocation must reach the app through the listener, never by a cached key expiring.
AUTH_CACHE_TTL = 300.0
# Short retries that still span a 10 s receiver outage (0.5 + 1 + 2 + 4 + 8 s).
WEBHOOK_RETRY_DELAYS = "0.5,1,2,4,8"
