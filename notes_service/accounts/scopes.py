"""What a key may do: its scopes, and the scope each route needs, decided here for every route.

`authenticate` (accounts/auth.py) asks `required_scope` on every request it authenticates, from
the request's method and path, so a new route needs no declaration to be guarded: a read is
`notes:read`, any other method `notes:write`, and the key and webhook management paths need
their own scope for every method. tests/test_scopes.py walks the app's routes to check it."""

from __future__ import annotations

NOTES_READ = "notes:read"
NOTES_WRITE = "notes:write"
KEYS_WRITE = "keys:write"
WEBHOOKS_WRITE = "webhooks:write"
ALL_SCOPES: tuple[str, ...] = (NOTES_READ, NOTES_WRITE, KEYS_WRITE, WEBHOOKS_WRITE)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Path prefixes whose every route needs one scope, whatever the method.
_PREFIX_SCOPES: tuple[tuple[str, str], ...] = (
    ("/v1/keys", KEYS_WRITE),
    ("/v1/webhooks", WEBHOOKS_WRITE),
)


# Routes whose scope is not the one their method says: a stream token only opens the stream.
_ROUTE_SCOPES: dict[tuple[str, str], str] = {
    ("POST", "/v1/changes/stream-tokens"): NOTES_READ,
}


def required_scope(method: str, path: str) -> str:
    if (scope := _ROUTE_SCOPES.get((method.upper(), path))) is not None:
        return scope
    for prefix, scope in _PREFIX_SCOPES:
        if path == prefix or path.startswith(prefix + "/"):
            return scope
    return NOTES_READ if method.upper() in READ_METHODS else NOTES_WRITE
