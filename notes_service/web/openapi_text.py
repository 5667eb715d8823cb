"""The words of the OpenAPI document: the introduction, each operation's description, parameter
descriptions and examples. Kept apart from the routes so that /docs can teach what docs/routes.md
does without crowding the route code."""

from __future__ import annotations

from typing import Any

INTRODUCTION = """\
A notes service: create, edit, trash and search notes, with revisions, tags and a change feed.

**Keys and auth.** Every `/v1` operation needs `Authorization: Bearer <key>`. An operator makes a
key with `notes-service keys create --owner NAME` (it is shown once). Here: press **Authorize**,
paste the key (`nsk_…`), then **Try it out** on any operation. An owner sees only their own
notes: another owner's note is a 404.

**Errors** are `application/problem+json` (RFC 9457): `type` (`urn:notes-service:problem:<name>`),
`title`, `status`, `detail`, `request_id`, and `errors: [{loc, msg}]` on a 422. Each operation lists
the problems it can answer. Bodies must be `application/json` (else 415); malformed JSON is a 400
`invalid-json` that says where it broke.

**Pages and cursors.** Lists answer `{"items": [...], "next_cursor": "…" | null}` and a
`Link: <…>; rel="next"` header. Pass `next_cursor` back as `cursor`, with the same sort and
filters, until it is `null`. Cursors are opaque, signed and bound to the query: a garbled or
mismatched one is a 400 `invalid-cursor`.

**Idempotency-Key** (on `POST /v1/notes` and `POST /v1/notes/batch`): retrying with the same key
and body replays the first response (`Idempotent-Replayed: true`); the same key with another body
is a 422 `idempotency-key-reused`; a duplicate while the first still runs is a 409
`idempotency-in-flight`.

**ETags and conditional requests.** A note's responses carry a strong `ETag`. `If-None-Match`
on GET answers 304 when it matches; `If-Match` on PATCH, DELETE and the restores must match the
current version, else 412 `precondition-failed` and nothing is written.

**The change feed.** `GET /v1/changes` reports every create, update, trash, restore and permanent
delete, each note once at its latest change. Store `next_cursor` (never null) and resume from it;
`has_more` says whether to read on now.
"""

NOTE = {
    "id": "3f2c9d4e-8a1b-4c5d-9e6f-7a8b9c0d1e2f",
    "title": "Groceries",
    "body": "milk, eggs",
    "tags": ["home", "todo"],
    "pinned": False,
    "archived": False,
    "version": 1,
    "created_at": "2026-11-22T10:00:00Z",
    "updated_at": "2026-11-22T10:00:00Z",
    "deleted_at": None,
}
NEW_NOTE = {"title": "Groceries", "body": "milk, eggs", "tags": ["home", "todo"]}
REVISION = {k: NOTE[k] for k in ("version", "title", "body", "tags", "pinned", "archived")} | {
    "deleted": False,
    "created_at": "2026-11-22T10:00:00Z",
}
CURSOR = "eyJ2IjoxfQ.c2lnbmF0dXJl"

KEY = {
    "id": "6f1c2b8e-3d4a-4e5f-9a0b-1c2d3e4f5a6b",
    "label": "reader",
    "scopes": ["notes:read"],
    "expires_at": "2026-12-22T10:00:00Z",
    "created_at": "2026-11-22T10:00:00Z",
}

WEBHOOK = {
    "id": "0b7e5a7c-2f3d-4c1b-8e9f-7a6b5c4d3e2f",
    "url": "https://example.com/hooks/notes",
    "events": ["note.created", "note.updated"],
    "enabled": True,
    "created_at": "2026-11-22T10:00:00Z",
}

# (method, path) -> description, request example, response example.
OPERATIONS: dict[tuple[str, str], tuple[str, Any, Any]] = {
    ("post", "/v1/keys"): (
        "Make a key for the owner (needs `keys:write`). It may hold only scopes the calling key "
        "holds (else 403 `insufficient-scope`) and expires no later than it. The key is shown "
        "once, here.",
        {"label": "reader", "scopes": ["notes:read"], "expires_at": "2026-12-22T10:00:00Z"},
        KEY | {"key": "nsk_" + "x" * 43},
    ),
    ("get", "/v1/keys"): (
        "The owner's keys not revoked, oldest first, with `last_used_at` (to the minute); never "
        "the key itself. Needs `keys:write`.",
        None,
        [KEY | {"last_used_at": "2026-11-22T10:05:00Z"}],
    ),
    ("delete", "/v1/keys/{key_id}"): (
        "Revoke one of the owner's keys (needs `keys:write`): every process refuses it within a "
        "second. Another owner's key, or one already revoked, is a 404.",
        None,
        None,
    ),
    ("post", "/v1/webhooks"): (
        "Subscribe a URL to the owner's note changes (needs `webhooks:write`); `events` filters "
        "them (default: all three). The `secret` (`whsec_…`) that signs every delivery "
        "(Standard Webhooks) is shown once, here. Loopback, private, link-local and metadata "
        "addresses are refused (422) unless the service allows private targets.",
        {"url": "https://example.com/hooks/notes", "events": ["note.created", "note.updated"]},
        WEBHOOK | {"secret": "whsec_" + "x" * 44},
    ),
    ("get", "/v1/webhooks"): (
        "The owner's webhooks, oldest first; never their secrets. A webhook whose deliveries "
        "failed too often in a row has `enabled: false`.",
        None,
        [WEBHOOK],
    ),
    ("delete", "/v1/webhooks/{webhook_id}"): (
        "Remove the webhook and its delivery log; nothing more is sent to it.",
        None,
        None,
    ),
    ("get", "/v1/webhooks/{webhook_id}/deliveries"): (
        "The webhook's deliveries, newest first, one page at a time: each with its `event_id` "
        "(the `webhook-id` header), `type`, `state` (pending, delivered, failed), `attempts`, "
        "the receiver's `last_status` (null: no answer), `delivered_at` and `next_attempt_at`.",
        None,
        {
            "items": [
                {
                    "event_id": "msg_4f1c…",
                    "type": "note.created",
                    "state": "delivered",
                    "attempts": 1,
                    "last_status": 204,
                    "delivered_at": "2026-11-22T10:00:01Z",
                    "next_attempt_at": None,
                }
            ],
            "next_cursor": None,
        },
    ),
    ("post", "/v1/notes"): (
        "Create a note. `title` is 1-200 characters after trimming; `body` up to 100,000; up to "
        "20 `tags` (trimmed, lowercased). Answers 201 with the note, its `Location` and `ETag`. "
        "Send an `Idempotency-Key` to make retries safe.",
        NEW_NOTE,
        NOTE,
    ),
    ("get", "/v1/notes"): (
        "The owner's notes, newest change first by default, one page at a time. Archived and "
        "trashed notes are left out unless asked for; `tag` keeps notes carrying every tag given.",
        None,
        {"items": [NOTE], "next_cursor": None},
    ),
    ("post", "/v1/notes/batch"): (
        "Create 1-100 notes in one transaction: all or nothing. An invalid item is a 422 naming "
        'its index (`loc: ["body", "notes", 2, "title"]`) and nothing is written.',
        {"notes": [NEW_NOTE, {"title": "Call the plumber", "pinned": True}]},
        {"items": [NOTE]},
    ),
    ("get", "/v1/notes/{note_id}"): (
        "One note with its `ETag`. A trashed note has `deleted_at` set. With a matching "
        "`If-None-Match` the answer is 304 with no body.",
        None,
        NOTE,
    ),
    ("patch", "/v1/notes/{note_id}"): (
        "Change some fields: `title`, `body`, `tags` (replaces the set), `pinned`, `archived`. "
        "A real change bumps `version` and writes a revision; `null` is refused (leave the field "
        "out). A trashed note is a 409 `note-trashed`. Send `If-Match` to avoid lost updates.",
        {"title": "Groceries for Sunday", "pinned": True},
        NOTE | {"title": "Groceries for Sunday", "pinned": True, "version": 2},
    ),
    ("delete", "/v1/notes/{note_id}"): (
        "Move the note to the trash (idempotent), or with `permanent=true` remove it, its tags "
        "links and revisions, leaving a tombstone for the change feed.",
        None,
        None,
    ),
    ("post", "/v1/notes/{note_id}/restore"): (
        "Take the note out of the trash (a new version). A note not in the trash is returned "
        "unchanged.",
        None,
        NOTE | {"version": 3},
    ),
    ("get", "/v1/notes/{note_id}/revisions"): (
        "Every version of the note, newest first: revision n is the state at version n.",
        None,
        {"items": [REVISION], "next_cursor": None},
    ),
    ("get", "/v1/notes/{note_id}/revisions/{version}"): (
        "Revision n: the note as it was at version n.",
        None,
        REVISION,
    ),
    ("post", "/v1/notes/{note_id}/revisions/{version}/restore"): (
        "Make revision n the note's content again, as a new version. Nothing is written when "
        "the note already equals it. A trashed note is a 409 `note-trashed`.",
        None,
        NOTE | {"version": 4},
    ),
    ("get", "/v1/search"): (
        "",  # the route's own description (SEARCH_DESCRIPTION), the rank limit included
        None,
        {
            "items": [NOTE | {"rank": 0.6, "snippet": "<mark>milk</mark>, eggs", "match": "text"}],
            "next_cursor": None,
        },
    ),
    ("get", "/v1/tags"): (
        "The owner's tags on notes not in the trash, with counts, most used first.",
        None,
        [{"name": "home", "count": 3}, {"name": "todo", "count": 1}],
    ),
    ("get", "/v1/stats"): (
        "Counts over the owner's notes: live (archived included), pinned, archived, trashed, "
        "distinct tags, stored revisions, and the latest change.",
        None,
        {
            "notes": 12,
            "pinned": 2,
            "archived": 3,
            "trashed": 1,
            "tags": 5,
            "revisions": 40,
            "last_updated_at": "2026-11-22T10:05:00Z",
        },
    ),
    ("get", "/v1/changes"): (
        "The delta-sync feed: every change, each note once at its latest change, in commit-safe "
        "order (`op`: create, update, trash, restore, delete; `note` is null for a delete). "
        "Apply in order, store `next_cursor`, resume from it.",
        None,
        {
            "changes": [{"id": NOTE["id"], "version": 1, "op": "create", "note": NOTE}],
            "next_cursor": CURSOR,
            "has_more": False,
        },
    ),
    ("get", "/v1/export"): (
        "All the owner's notes, trash included, as NDJSON (one note per line, oldest first), "
        "streamed. `revisions=true` adds each note's revisions.",
        None,
        None,
    ),
    ("delete", "/v1/trash"): (
        "Permanently remove every note in the owner's trash, leaving tombstones.",
        None,
        {"purged": 3},
    ),
    ("post", "/v1/import"): (
        "NDJSON in the export format, validated whole and written in one transaction. A line "
        "whose id is already one of the owner's notes: `on_conflict=fail` (409 `import-conflict`, "
        "nothing written), `skip`, or `overwrite` (a new version). A bad line is a 422 naming it.",
        None,
        {"created": 2, "updated": 0, "skipped": 0},
    ),
    ("get", "/healthz"): ("200 while the process runs; never touches the database.", None, None),
    ("get", "/readyz"): (
        "200 when both pools answer and the schema is current; else 503 `not-ready` naming the "
        "failed check.",
        None,
        {"status": "ready", "checks": {"write_pool": "ok", "read_pool": "ok", "migrations": "ok"}},
    ),
    ("get", "/metrics"): (
        "Prometheus metrics (no key: keep it off the public network).",
        None,
        None,
    ),
}

IMPORT_EXAMPLE = (
    '{"title": "Groceries", "body": "milk, eggs", "tags": ["home"]}\n{"title": "Plumber"}\n'
)

PARAMETERS: dict[str, str] = {
    "note_id": "The note's id (a UUID).",
    "webhook_id": "The webhook's id (a UUID), as `POST /v1/webhooks` gave it.",
    "key_id": "The key's id (a UUID), as `POST /v1/keys` or `GET /v1/keys` gave it.",
    "version": "A version number of the note (1 is its creation).",
    "limit": "Items per page, 1-100.",
    "cursor": "`next_cursor` from the previous page; omit for the first page.",
    "last-event-id": "Sent by an EventSource on reconnect: the `id` of the last event received "
    "(the feed's cursor); it wins over `cursor`.",
    "tag": "Only notes carrying this tag (repeat the parameter for notes carrying all of them).",
    "pinned": "Only pinned (`true`) or unpinned (`false`) notes; omit for either.",
    "archived": "`true`: only archived notes. Omitted or `false`: archived notes left out.",
    "trashed": "`true`: only notes in the trash. Omitted or `false`: the trash left out.",
    "updated_after": "Only notes changed after this instant (RFC 3339 with an offset).",
    "sort": "`-updated_at` (default), `updated_at`, `-created_at` or `created_at`.",
    "q": 'Search words: `"a phrase"`, `-excluded`, `or`.',
    "fuzzy": "`true`: trigram similarity on the title (tolerates typos).",
    "permanent": "`true`: remove the note for good instead of moving it to the trash.",
    "revisions": "`true`: each exported note also carries its revisions.",
    "on_conflict": "A line whose id is already one of your notes: `fail`, `skip` or `overwrite`.",
    "If-Match": "The note's `ETag` (or `*`): the write happens only if it is still current.",
    "If-None-Match": "An `ETag` you hold: 304 with no body if the note has not changed.",
    "Idempotency-Key": "1-255 printable ASCII characters; a retry with the same key and body "
    "replays the first response.",
}
