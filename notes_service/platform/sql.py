"""The platform's own statements: probes, the migration state, and the server's limits."""

from __future__ import annotations

PING = "SELECT 1"
# The newest migration aerich recorded as applied to the database.
APPLIED_HEAD = "SELECT version FROM aerich WHERE app = 'models' ORDER BY id DESC LIMIT 1"
SERVER_VERSION = "SHOW server_version"
MAX_CONNECTIONS = "SHOW max_connections"
SUPERUSER_RESERVED_CONNECTIONS = "SHOW superuser_reserved_connections"
# PostgreSQL 16+ reserves more slots for pg_use_reserved_connections; NULL before 16.
RESERVED_CONNECTIONS = "SELECT current_setting('reserved_connections', true)"
