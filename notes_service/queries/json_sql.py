"""SQL fragments that build the read side's JSON in PostgreSQL, byte for byte as the response
models would serialise it (pydantic's compact JSON), so a router can pass the text through.

`json_build_object` / `json_agg` would be shorter, but they put spaces after `:` and `,` and
print timestamps and floats their own way; concatenation of typed pieces keeps the wire format
identical (`tests/test_wire_format.py` checks it against the models).
"""

from __future__ import annotations

from collections.abc import Sequence


def json_object(fields: Sequence[tuple[str, str]]) -> str:
    """`{"key":<expr>,...}` from (key, SQL expression yielding JSON text, never NULL)."""
    parts = [
        f"""'{"{" if i == 0 else ","}"{key}":' || {expr}""" for i, (key, expr) in enumerate(fields)
    ]
    return "(" + " || ".join(parts) + " || '}')"


def json_string(expr: str) -> str:
    return f"CAST(to_json(CAST({expr} AS text)) AS text)"


def json_bool(expr: str) -> str:
    return f"(CASE WHEN {expr} THEN 'true' ELSE 'false' END)"


def json_int(expr: str) -> str:
    return f"CAST({expr} AS text)"


def json_timestamp(expr: str) -> str:
    """RFC 3339 in UTC as pydantic prints it: `Z`, and microseconds only when there are any.
    One `to_char` with microseconds, whose only `.000000Z` (a whole second) is then cut: cheaper
    than choosing the format per value (~5% of the list page statement's CPU). The colons are
    quoted literals (`":"`): a bare `:MI` would read as a variable to pgbench, which replays
    these statements in the benchmark."""
    return (
        f"""replace(to_char(({expr} AT TIME ZONE 'UTC'), """
        """'\\"YYYY-MM-DD"T"HH24":"MI":"SS.US"Z\\"'), '.000000Z', 'Z')"""
    )


def json_nullable(json_expr: str) -> str:
    return f"coalesce({json_expr}, 'null')"


def json_float(expr: str) -> str:
    """A float as pydantic prints it: the shortest round-trip digits (PostgreSQL's float8 output
    with the default `extra_float_digits = 1`), fixed notation from 1e-5 up to 1e16 with at least
    one decimal (`1.0`), otherwise `1.5e-7` / `1e+16` (no zero-padded exponent)."""
    value = f"CAST({expr} AS float8)"
    return f"""(CASE
    WHEN {value} = 0 THEN '0.0'
    WHEN abs({value}) < 1e-5 OR abs({value}) >= 1e16
        THEN regexp_replace(CAST({value} AS text), 'e([-+])0*([0-9])', 'e\\1\\2')
    ELSE (SELECT CASE WHEN strpos(fixed, '.') = 0 THEN fixed || '.0' ELSE fixed END
          FROM (SELECT CAST(CAST(CAST({value} AS text) AS numeric) AS text) AS fixed) AS f)
END)"""


def json_array(items_expr: str, order_by: str) -> str:
    """Aggregate: `[item,...]` (`[]` for no rows) from a JSON-text expression per row."""
    return f"('[' || coalesce(string_agg({items_expr}, ',' ORDER BY {order_by}), '') || ']')"


# A note's tags, sorted by code point (COLLATE "C"), the order the write side returns them in:
# the row's own copy (`notes.tag_names`, kept by the write side), not a look-up in note_tags.
NOTE_TAGS_JSON = "CAST(array_to_json(n.tag_names) AS text)"

# `NoteOut` of the note aliased `n`, in the model's field order.
NOTE_FIELDS: tuple[tuple[str, str], ...] = (
    ("id", "'\"' || CAST(n.id AS text) || '\"'"),
    ("title", json_string("n.title")),
    ("body", json_string("n.body")),
    ("tags", NOTE_TAGS_JSON),
    ("pinned", json_bool("n.pinned")),
    ("archived", json_bool("n.archived")),
    ("version", json_int("n.version")),
    ("created_at", json_timestamp("n.created_at")),
    ("updated_at", json_timestamp("n.updated_at")),
    ("deleted_at", json_nullable(json_timestamp("n.deleted_at"))),
)
NOTE_JSON = json_object(NOTE_FIELDS)


def html_escape(expr: str) -> str:
    """Python's `html.escape(text, quote=True)`, in SQL: `&` first, then < > " '."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        expr = f"replace({expr}, '{char}', '{entity}')"
    return f"replace({expr}, '''', '&#x27;')"
