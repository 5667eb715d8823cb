"""The platform's own statements: probes, the migration state, the server's limits, and the
listener's registrations of the owners it listens for (`live_owners`)."""

from __future__ import annotations

PING = "SELECT 1"
# The newest migration aerich recorded as applied to the database.
APPLIED_HEAD = "SELECT version FROM aerich WHERE app = 'models' ORDER BY id DESC LIMIT 1"
SERVER_VERSION = "SHOW server_version"
MAX_CONNECTIONS = "SHOW max_connections"
SUPERUSER_RESERVED_CONNECTIONS = "SHOW superuser_reserved_connections"
# PostgreSQL 16+ reserves more slots for pg_use_reserved_connections; NULL before 16.
RESERVED_CONNECTIONS = "SELECT current_setting('reserved_connections', true)"

# Registrations: this connection's own rows, plus the rows of listeners whose backend is gone
# (a killed worker's), which would only cost their owners' writes a needless NOTIFY.
CLEAR_OWNERS = """
DELETE FROM live_owners
WHERE listener_pid = pg_backend_pid()
   OR listener_pid NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)"""
ADD_OWNERS = """
INSERT INTO live_owners (owner_id, listener_pid)
SELECT unnest(CAST($1 AS int[])), pg_backend_pid()
ON CONFLICT DO NOTHING"""
REMOVE_OWNER = "DELETE FROM live_owners WHERE owner_id = $1 AND listener_pid = pg_backend_pid()"
# The same, returning only the owners whose row was missing (and is now back).
RESTORE_OWNERS = ADD_OWNERS + "\nRETURNING owner_id"

# The change feed's clock (migration feed_clock): give a viewer's committed pending changes their
# positions, and find the viewers that have some.
FEED_SEQUENCE = "SELECT feed_sequence($1) AS sequenced"
FEED_PENDING_VIEWERS = "SELECT DISTINCT viewer_id FROM feed WHERE tick IS NULL LIMIT 1000"
