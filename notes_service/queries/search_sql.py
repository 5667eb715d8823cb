"""The search statements: full-text (`fts`) and trigram (`fuzzy`), with `$n` binds.

The query text comes in as a `to_tsquery` source (`search_text.parse`), folded by PostgreSQL's
`notes_fold` as the notes' documents are (migration 9). The fuzzy statement matches the title by
trigram similarity, or the document by the wanted words' near words in the vocabulary
(`FUZZY_QUERY`), and never a note that holds an excluded term; each hit says whether it also
matches the text (`match`: `text` or `fuzzy`).

Broad queries: only the newest `rank_limit` matches (by `updated_at`, then id) are ranked, so a
word found in 100,000 notes costs what a word found in `rank_limit` notes costs. Which plan finds
those candidates fastest depends on how common the words are (for full text, a query with a word
in `COMMON_SHARE` of the notes walks the GiST index on (updated_at, search) newest first, see
`_candidates`; otherwise the owner's notes newest first, or the GIN index then a top-N sort),
so these statements are planned for their values on every execution
(`ReadDatabase.fetchrow_planned`). The one exception is the commonest search, a rare word
(`generic`): its statement finds its matches through the text index whatever the values, so it
runs prepared, as every other read does, and PostgreSQL plans it once (a generic plan).

A walk over several pages keeps its candidate set: later pages only consider notes updated at
or before `as_of` (when the first page was asked for) and, when the first page's set was cut at
`rank_limit`, no older than its oldest candidate (`floor_ts`, `floor_id`).
"""

from __future__ import annotations

import functools

from notes_service.queries.json_sql import (
    NOTE_FIELDS,
    html_escape,
    json_float,
    json_object,
    json_string,
)
from notes_service.queries.sql import Params, Statement, json_page, tag_filter

# Highlights are delimited by two private-use characters (stripped from the text first), so
# that the note text can be HTML-escaped and then only they turned into <mark>.
MARK_START, MARK_STOP = "\ue000", "\ue001"
_HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords=30, MinWords=10, "
    "MaxFragments=2, FragmentDelimiter=\u2026"
)
_SNIPPET_SOURCE = f"translate(coalesce(nullif(n.body, ''), n.title), '{MARK_START}{MARK_STOP}', '')"


def _safe(snippet: str) -> str:
    """`html.escape` of the snippet, then only the highlight markers become raw <mark> tags."""
    marked = f"replace({html_escape(snippet)}, '{MARK_START}', '<mark>')"
    return json_string(f"replace({marked}, '{MARK_STOP}', '</mark>')")


# Every note's updated_at is before this (writes stamp the current time, imports take 1970 up to
# a day ahead), and within 136 years (2^32 s) of it: there, btree_gist's float8 distance in
# seconds still tells apart two times a microsecond apart, so nearest to it is newest first, in
# exact order. To be moved before 2099, with its distance to 1970 in mind.
RECENCY_ANCHOR = "TIMESTAMPTZ '2100-01-01 00:00:00+00'"


# Does the query hold a word that PostgreSQL's statistics show in at least $2 of the notes?
# (`most_common_elems` of `notes.search`: the lexemes common enough to be counted by ANALYZE.)
IS_COMMON = """
SELECT coalesce(max(u.share) >= $2, false) AS common
FROM pg_stats s,
     unnest(CAST(CAST(s.most_common_elems AS text) AS text[]), s.most_common_elem_freqs)
       AS u(lexeme, share)
WHERE s.schemaname = current_schema() AND s.tablename = 'notes' AND s.attname = 'search'
  AND u.lexeme = ANY (tsvector_to_array(to_tsvector('english', notes_fold($1, true))))
"""
# A word in at least this share of the notes is common: its newest matches are walked in the
# GiST index (see `_candidates`).
COMMON_SHARE = 0.01


def _candidates(carried: str, where: str, rank_limit: str | None, *, recent: bool) -> str:
    """The candidate set: all matches in the window (`rank_limit` None), else the newest
    `rank_limit` by (updated_at, id)."""
    if not recent:
        limit = "" if rank_limit is None else f"LIMIT {rank_limit}"
        return f"""SELECT n.id, n.updated_at, {carried}
    FROM notes n
    WHERE {where}
    ORDER BY n.updated_at DESC, n.id DESC
    {limit}"""
    # For a common word, newest first as "nearest to the anchor" lets the GiST index on
    # (updated_at, search) find the newest matches without reading a row that does not match:
    # walking the btree newest first reads every newer non-matching note on the heap (~4.5 µs
    # each; tens of thousands after a burst of unrelated writes). WITH TIES keeps every note
    # sharing the cut's updated_at, so the outer ORDER BY settles the cut by id. A rare word
    # keeps the plain statement: this walk would pass most of the index for it, and the
    # planner, pricing a GiST scan as if it read only matching entries, would still choose it.
    return f"""SELECT w.id, w.updated_at, w.{carried.removeprefix("n.")}
    FROM (
        SELECT n.id, n.updated_at, {carried}
        FROM notes n
        WHERE {where}
        ORDER BY n.updated_at <-> {RECENCY_ANCHOR}
        FETCH FIRST {rank_limit} ROWS WITH TIES
    ) AS w
    ORDER BY w.updated_at DESC, w.id DESC
    LIMIT {rank_limit}"""


# The typo-tolerant query of the wanted words (`$1`): each (folded, lower case; not an English
# stop word) becomes the OR of its nearest words in the vocabulary (trigram similarity, served
# by its trigram index) and of the words it begins (`prog` -> `programming`); the words are
# ANDed, so NULL when one of them has no near word at all (or there is none). Each word is
# quoted for `to_tsquery`.
FUZZY_QUERY = r"""
SELECT CASE WHEN count(w.near) = count(*)
            THEN string_agg('(' || w.near || ')', ' & ' ORDER BY w.i) END AS fuzzy
FROM (
    SELECT u.i, (
        SELECT string_agg(
                   '''' || replace(replace(v.word, '\', '\\'), '''', '''''') || '''',
                   ' | ' ORDER BY v.word)
        FROM ((SELECT s.word FROM search_vocabulary s WHERE s.word % f.word
               ORDER BY similarity(s.word, f.word) DESC, s.word LIMIT 5)
              UNION
              (SELECT s.word FROM search_vocabulary s
               WHERE s.word > f.word AND s.word < f.word || chr(1114111)
               ORDER BY s.word LIMIT 3)) AS v
    ) AS near
    FROM unnest(CAST($1 AS text[])) WITH ORDINALITY AS u(word, i)
    CROSS JOIN LATERAL (SELECT lower(notes_fold(u.word, true)) AS word) AS f
    WHERE ts_lexize('english_stem', f.word) <> CAST('{}' AS text[])
) AS w
"""


def _tsquery(source: str, *, fold: bool = True) -> str:
    # Written out (not a CTE) so that the planner sees the tsquery and its selectivity.
    # `notes_fold` leaves plain ASCII as it is: an ASCII query skips the call.
    folded = f"notes_fold({source}, true)" if fold else source
    return f"to_tsquery('english', {folded})"


@functools.cache
def search_page(
    mode: str,
    *,
    tags: bool,
    after: bool,
    as_of: bool,
    floor: bool,
    recent: bool = False,
    fuzzy: bool = False,
    exclude: bool = False,
    ascii: bool = False,
    generic: bool = False,
) -> Statement:
    """`recent`: a full-text walk for a common word, without a floor (see `_candidates`).
    `generic`: a full-text search for rare words, without a floor, shaped to run on a generic
    plan (see `_candidates`).
    `fuzzy` and `exclude` (fuzzy mode only): whether there is a typo-tolerant query of the
    words (`FUZZY_QUERY`), whether terms are excluded. `ascii`: the query text is plain ASCII,
    which `notes_fold` would return as it is."""
    if recent and (mode != "fts" or floor):
        raise ValueError("only a full-text search without a floor walks the GiST index")
    if generic and (mode != "fts" or floor or recent):
        raise ValueError("only a rare word's full-text search without a floor runs generic")
    p = Params()
    owner = p("owner_id", "integer")
    tsquery = _tsquery(p("tsquery", "text"), fold=not ascii)
    limit = p("limit", "integer")
    where = [f"n.owner_id = {owner}", "n.deleted_at IS NULL"]
    if generic:
        # Every match of the rare word from the text index, then a top-N sort, whatever the
        # values. Planned without them, the text condition is estimated at a fixed 0.5% of the
        # rows and the owner's at a fifth, and the generic plan ANDed the two bitmaps, reading
        # the owner's whole index range (900,000 entries in the benchmark) for ~1,000 matches:
        # `+ 0` keeps the owner a filter on the matches.
        where[0] = f"n.owner_id + 0 = {owner}"
    if mode == "fts":
        # A generic statement hides the query from the planner (a subquery, run once): planned
        # with it, a rare word's plan looks cheaper than the generic one and PostgreSQL keeps
        # planning every execution; without it, both plans are the same and it keeps the
        # generic one after the fifth.
        where.append(f"n.search @@ (SELECT {tsquery})" if generic else f"n.search @@ {tsquery}")
        carried = "n.search"
        rank, how = f"ts_rank(c.search, {tsquery})", "'text'"
        snippet = _safe(
            f"ts_headline('english', {_SNIPPET_SOURCE}, {tsquery}, '{_HEADLINE_OPTIONS}')"
        )
    else:
        wanted = p("wanted", "text")
        # `%` matches whole-title typos, `<%` a misspelt word within a longer title, and the
        # words' near words in the document find typos in any word of the note.
        found = [f"{wanted} % n.title", f"{wanted} <% n.title"]
        near = "0"
        if fuzzy:
            typos = _tsquery(p("fuzzy", "text"), fold=False)  # vocabulary words are folded
            found.append(f"n.search @@ {typos}")
            near = f"ts_rank(c.search, {typos})"
        where.append("(" + " OR ".join(found) + ")")
        if exclude:
            where.append(f"NOT (n.search @@ {_tsquery(p('exclude', 'text'), fold=not ascii)})")
        carried = "n.title, n.search"
        texts = f"CASE WHEN c.search @@ {tsquery} THEN 1 ELSE 0 END"
        rank = (
            f"{texts} + greatest(similarity({wanted}, c.title), "
            f"word_similarity({wanted}, c.title), {near})"
        )
        how = f"CASE WHEN c.search @@ {tsquery} THEN 'text' ELSE 'fuzzy' END"
        snippet = _safe(f"left({_SNIPPET_SOURCE}, 200)")
    if tags:
        where.append(tag_filter(p))
    if as_of:
        where.append(f"n.updated_at <= {p('as_of', 'timestamptz')}")
    if floor:
        # (updated_at, id) >= (floor_ts, floor_id), spelt so that the planner sees a plain range
        # on updated_at (the row comparison, an index condition of the btree, was estimated to
        # keep a twentieth of the range and drew a slow BitmapAnd with the GIN index).
        floor_ts = p("floor_ts", "timestamptz")
        where.append(f"n.updated_at >= {floor_ts}")
        where.append(f"(n.updated_at > {floor_ts} OR n.id >= {p('floor_id', 'uuid')})")
    keyset = ""
    if after:
        keyset = f"WHERE (h.rank, h.id) < ({p('after_rank', 'real')}, {p('after_id', 'uuid')})"
    rank_limit = None if floor else p("rank_limit", "integer")
    item = json_object(
        [
            *NOTE_FIELDS,
            ("rank", json_float("p.rank")),
            ("snippet", snippet),
            ("match", json_string("p.match")),
        ]
    )
    sql = f"""
WITH candidate AS MATERIALIZED (
    {_candidates(carried, " AND ".join(where), rank_limit, recent=recent)}
),
edge AS (
    -- The set's size and its oldest note, in one read of it.
    SELECT c.updated_at, c.id, count(*) OVER () AS n
    FROM candidate c
    ORDER BY c.updated_at, c.id
    LIMIT 1
),
page AS (
    SELECT h.id, h.rank, h.match, row_number() OVER (ORDER BY h.rank DESC, h.id DESC) AS i
    FROM (SELECT c.id, {rank} AS rank, {how} AS match FROM candidate c) AS h
    {keyset}
    ORDER BY h.rank DESC, h.id DESC
    LIMIT {limit} + 1
)
SELECT {json_page(item, "p.i", limit)} AS items,
       (array_agg(CAST(p.rank AS float8)) FILTER (WHERE p.i = {limit}))[1] AS last_rank,
       (array_agg(p.id) FILTER (WHERE p.i = {limit}))[1] AS last_id,
       count(*) > {limit} AS more,
       coalesce((SELECT e.n FROM edge e), 0) AS candidates,
       (SELECT e.updated_at FROM edge e) AS oldest_ts,
       (SELECT e.id FROM edge e) AS oldest_id
FROM page p
JOIN notes n ON n.id = p.id
"""
    return Statement(sql, tuple(p.names))
