from tortoise import BaseDBAsyncClient
from tortoise.transactions import in_transaction

# Batches of the rebuild run in transactions of their own (see `rebuild`).
RUN_IN_TRANSACTION = False

# Search in every language (SPEC §9) with only pg_trgm and btree_gist: the search document is
# folded and segmented by SQL functions of our own, and the queries fold their text the same
# way (queries/search_text.py builds them).
# - `notes_fold`: letters with diacritics become their base letter (café -> cafe, Straße ->
#   strasse), combining marks and emoji modifiers go, each emoji or symbol becomes a word of its
#   own (🍕 -> u1f355; the parser would drop it as a blank), and each run of CJK characters
#   becomes its overlapping bigrams (数据迁移会议 -> 数据 据迁 迁移 移会 会议), so that a query of
#   two or more CJK characters, a phrase of its bigrams, finds the text anywhere in a run. A
#   document also keeps each run's last character alone, so that a one-character query (a
#   prefix) finds every occurrence. IMMUTABLE: changing it needs a new migration that rebuilds.
# - `notes_german_extras`: words with ä, ö, ü or ß also go in with ae/oe/ue (Überweisung ->
#   ueberweisung) and as the German stemmer has them (Häuser -> haus, Äpfel -> apfel).
# - `search` (a generated column until now) is kept by a trigger from `notes_search_doc`.
# - `search_vocabulary`: every folded word any note has had (three letters or more, no digits,
#   no CJK), with a trigram index: a typo (`fuzzy=true`) is corrected to its similar words, which
#   are then looked for in `search` like any word. The same trigger adds a note's new words:
#   far cheaper to write than a trigram index over each note's words (that index cost ~+200 us
#   per inserted note, see docs/search.md).
# The indexes on `search` (GIN, and migration 7's GiST) stay as they are.

# Base letter -> its letters with diacritics (lower case; the upper case is derived).
_ACCENTED = {
    "a": "àáâãäåāăąǎȁȃạảấầẩẫậắằẳẵặ",
    "c": "çćĉċč",
    "d": "ďđð",
    "e": "èéêëēĕėęěȅȇẹẻẽếềểễệ",
    "g": "ĝğġģǧ",
    "h": "ĥħ",
    "i": "ìíîïĩīĭįıǐȉȋịỉ",
    "j": "ĵ",
    "k": "ķǩ",
    "l": "ĺļľŀł",
    "n": "ñńņňǹ",
    "o": "òóôõöøōŏőǒȍȏọỏốồổỗộớờởỡợơ",
    "r": "ŕŗřȑȓ",
    "s": "śŝşšș",
    "t": "ţťŧț",
    "u": "ùúûüũūŭůűųǔǖǘǚǜȕȗụủứừửữựư",
    "w": "ŵ",
    "y": "ýÿŷỳỹỵỷ",
    "z": "źżž",
}


def _accent_table() -> tuple[str, str]:
    source, target = [], []
    for base, letters in _ACCENTED.items():
        for letter in letters:
            for form in {letter, letter.upper()}:
                if len(form) == 1 and ord(form) > 127 and form not in source:
                    source.append(form)
                    target.append(base)
    return "".join(source), "".join(target)


_FROM, _TO = _accent_table()
# Emoji, pictographs, arrows, dingbats, maths and currency signs: each one a word.
SYMBOLS = (
    r"\u00a9\u00ae\u203c\u2049\u20a0-\u20cf\u2122\u2139\u2190-\u23ff\u2460-\u27bf"
    r"\u2900-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
# Han, kana and Hangul.
CJK = (
    r"\u1100-\u11ff\u3005\u3007\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002ffff"
)
_GERMAN = "äöüÄÖÜß"
_LATIN = r"a-zA-Z\u00c0-\u024f"

FUNCTIONS = rf"""
CREATE OR REPLACE FUNCTION "notes_fold"(t text, for_query boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    r text := t;
BEGIN
    IF r !~ '[^\x01-\x7f]' THEN
        RETURN r;  -- plain ASCII: the parser and the stemmer do the rest
    END IF;
    r := translate(r, '{_FROM}', '{_TO}');
    IF r ~ '[ßẞæÆœŒþÞ]' THEN
        r := replace(replace(replace(replace(r, 'ß', 'ss'), 'ẞ', 'ss'), 'æ', 'ae'), 'Æ', 'ae');
        r := replace(replace(replace(replace(r, 'œ', 'oe'), 'Œ', 'oe'), 'þ', 'th'), 'Þ', 'th');
    END IF;
    -- Combining marks (decomposed accents), joiners, variation selectors, skin tones.
    r := regexp_replace(r, '[\u0300-\u036f\u200d\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]', '', 'g');
    IF r ~ '[{SYMBOLS}]' THEN
        SELECT string_agg(
                   CASE WHEN m[1] IS NULL THEN m[2] ELSE ' u' || to_hex(ascii(m[1])) || ' ' END,
                   '' ORDER BY i)
        INTO r
        FROM regexp_matches(r, '([{SYMBOLS}])|([^{SYMBOLS}]+)', 'g') WITH ORDINALITY AS x(m, i);
    END IF;
    IF r ~ '[{CJK}]' THEN
        SELECT string_agg(
                   CASE
                       WHEN m[1] IS NULL THEN m[2]
                       WHEN length(m[1]) = 1 THEN ' ' || m[1] || ' '
                       -- The pairs from the first character, then from the second, in
                       -- turn: two linear scans (substr(run, k, 2) for each k would read
                       -- the run from its start each time, quadratic in its length).
                       ELSE ' ' || (SELECT string_agg(b.pair, ' ' ORDER BY b.pos)
                                    FROM (SELECT p[1] AS pair, 2 * k - 1 AS pos
                                          FROM regexp_matches(m[1], '(..)', 'g')
                                               WITH ORDINALITY AS e(p, k)
                                          UNION ALL
                                          SELECT p[1], 2 * k
                                          FROM regexp_matches(substr(m[1], 2), '(..)', 'g')
                                               WITH ORDINALITY AS o(p, k)) AS b)
                            || CASE WHEN for_query THEN ' ' ELSE ' ' || right(m[1], 1) || ' ' END
                   END,
                   '' ORDER BY i)
        INTO r
        FROM regexp_matches(r, '([{CJK}]+)|([^{CJK}]+)', 'g') WITH ORDINALITY AS x(m, i);
    END IF;
    RETURN r;
END
$fn$;

CREATE OR REPLACE FUNCTION "notes_german_extras"(t text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
SELECT CASE WHEN t !~ '[{_GERMAN}]' THEN CAST('' AS tsvector) ELSE (
    SELECT to_tsvector('english', "notes_fold"(
               replace(replace(replace(replace(replace(replace(words,
                   'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'Ä', 'Ae'), 'Ö', 'Oe'), 'Ü', 'Ue'),
               false))
           || to_tsvector('german', words)
    FROM (SELECT string_agg(m[1], ' ') AS words
          FROM regexp_matches(t, '([{_LATIN}]*[{_GERMAN}][{_LATIN}]*)', 'g') AS m) AS w
) END
$fn$;

CREATE OR REPLACE FUNCTION "notes_search_doc"(title text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT setweight(to_tsvector('english', "notes_fold"(coalesce(title, ''), false))
                 || "notes_german_extras"(coalesce(title, '')), 'A')
       || setweight(to_tsvector('english', "notes_fold"(coalesce(body, ''), false))
                    || "notes_german_extras"(coalesce(body, '')), 'B')
$fn$;

-- A text's distinct folded words of three letters or more, without digits or CJK (bigrams are
-- matched exactly): what a typo is compared with.
CREATE OR REPLACE FUNCTION "notes_search_words"(t text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
SELECT w FROM unnest(tsvector_to_array(to_tsvector('simple', "notes_fold"(t, false)))) AS w
WHERE length(w) BETWEEN 3 AND 40 AND w !~ '[0-9{CJK}]'
$fn$;

-- Adds the words of `t` that the vocabulary lacks, in sorted order. Usually none are new, and
-- this is a look-up per word. A new word that another transaction is adding too is locked by
-- it until it commits: after 100 ms (or on a deadlock between two transactions writing several
-- notes) this one leaves its new words to that transaction, rather than keep a writer waiting.
CREATE OR REPLACE FUNCTION "notes_vocabulary_add"(t text) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    fresh text[];
    waited text;
BEGIN
    SELECT array_agg(DISTINCT w.w ORDER BY w.w) INTO fresh
    FROM "notes_search_words"(t) AS w(w)
    WHERE NOT EXISTS (SELECT 1 FROM "search_vocabulary" v WHERE v.word = w.w);
    IF fresh IS NULL THEN
        RETURN 0;
    END IF;
    BEGIN
        waited := current_setting('lock_timeout');
        PERFORM set_config('lock_timeout', '100ms', true);
        INSERT INTO "search_vocabulary" (word) SELECT unnest(fresh) ON CONFLICT DO NOTHING;
        PERFORM set_config('lock_timeout', waited, true);
    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
        RETURN 0;  -- the subtransaction's end also undid the lock_timeout above
    END;
    RETURN cardinality(fresh);
END
$fn$;

CREATE OR REPLACE FUNCTION "notes_search_fill"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.search := "notes_search_doc"(NEW.title, NEW.body);
    PERFORM "notes_vocabulary_add"(NEW.title || ' ' || coalesce(NEW.body, ''));
    RETURN NEW;
END
$fn$;
"""

DDL = f"""
ALTER TABLE "notes" ALTER COLUMN "search" DROP EXPRESSION IF EXISTS;
CREATE TABLE IF NOT EXISTS "search_vocabulary" ("word" text COLLATE "C" PRIMARY KEY);
CREATE INDEX IF NOT EXISTS "search_vocabulary_trgm" ON "search_vocabulary"
    USING gin ("word" gin_trgm_ops);
{FUNCTIONS}
DROP TRIGGER IF EXISTS "notes_search_insert" ON "notes";
DROP TRIGGER IF EXISTS "notes_search_update" ON "notes";
CREATE TRIGGER "notes_search_insert" BEFORE INSERT ON "notes"
    FOR EACH ROW EXECUTE FUNCTION "notes_search_fill"();
CREATE TRIGGER "notes_search_update" BEFORE UPDATE OF "title", "body" ON "notes"
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.body IS DISTINCT FROM NEW.body)
    EXECUTE FUNCTION "notes_search_fill"();
"""

# One batch of the rebuild: the next `$2` notes by id after `$1`.
REBUILD_BATCH = """
WITH batch AS (
    SELECT id FROM "notes" WHERE $1::uuid IS NULL OR id > $1::uuid ORDER BY id LIMIT $2
), rebuilt AS (
    UPDATE "notes" n
    SET "search" = "notes_search_doc"(n.title, n.body)
    FROM batch WHERE n.id = batch.id
    RETURNING n.id, n.title, n.body
)
SELECT (SELECT id FROM batch ORDER BY id DESC LIMIT 1) AS last,
       (SELECT count(*) FROM rebuilt) AS n,
       (SELECT "notes_vocabulary_add"(string_agg(r.title || ' ' || coalesce(r.body, ''), ' '))
        FROM rebuilt r) AS words
"""

MAY_SKIP_TRIGGERS = "SELECT has_parameter_privilege('session_replication_role', 'SET') AS ok"


async def rebuild(db: BaseDBAsyncClient, batch: int = 2000, replica: bool | None = None) -> int:
    """Rebuilds every note's search document in batches of `batch` notes by id, each its own
    transaction: no lock beyond the batch's rows, held for the batch only. The rebuild is no
    change of the notes: the change feed and its announcements must not see it, so each batch
    runs with the notes' triggers off, by `session_replication_role = replica` where the role
    may set it (a superuser, or granted), else by `DISABLE TRIGGER USER` inside the batch's
    transaction (its table lock blocks other writers of notes for that batch only). `replica`
    chooses the way instead of the role's privilege (the tests try both)."""
    if replica is None:
        _, rows = await db.execute_query(MAY_SKIP_TRIGGERS)
        replica = bool(rows[0]["ok"])
    last, total = None, 0
    while True:
        async with in_transaction(db.connection_name) as tx:
            if replica:
                await tx.execute_script("SET LOCAL session_replication_role = replica")
            else:
                await tx.execute_script('ALTER TABLE "notes" DISABLE TRIGGER USER')
            _, rows = await tx.execute_query(REBUILD_BATCH, [last, batch])
            if not replica:
                await tx.execute_script('ALTER TABLE "notes" ENABLE TRIGGER USER')
        if rows[0]["last"] is None:
            return total
        last, total = rows[0]["last"], total + int(rows[0]["n"])


# The DDL is one transaction of brief locks (no table rewrite: dropping a column's expression
# keeps its values); then the batches rebuild every
# existing note, while new writes already get the new document from the trigger. Run again
# after an interruption, it starts over harmlessly.
async def upgrade(db: BaseDBAsyncClient) -> str:
    await db.execute_script(DDL)
    await rebuild(db)
    return 'ANALYZE "notes";'


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TRIGGER IF EXISTS "notes_search_insert" ON "notes";
        DROP TRIGGER IF EXISTS "notes_search_update" ON "notes";
        DROP TABLE IF EXISTS "search_vocabulary";
        ALTER TABLE "notes" DROP COLUMN IF EXISTS "search";
        ALTER TABLE "notes" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english', "title"), 'A')
            || setweight(to_tsvector('english', "body"), 'B')
        ) STORED;
        CREATE INDEX "notes_search_gin" ON "notes" USING gin ("search")
            WITH (gin_pending_list_limit = 256);
        CREATE INDEX "notes_recent_search" ON "notes" USING gist ("updated_at", "search");
        DROP FUNCTION IF EXISTS "notes_search_fill"();
        DROP FUNCTION IF EXISTS "notes_vocabulary_add"(text);
        DROP FUNCTION IF EXISTS "notes_search_words"(text);
        DROP FUNCTION IF EXISTS "notes_search_doc"(text, text);
        DROP FUNCTION IF EXISTS "notes_german_extras"(text);
        DROP FUNCTION IF EXISTS "notes_fold"(text, boolean);"""


MODELS_STATE = (
    "eJztXO1u4jgUfRXEr67UrdoUaHe1Wgk6zAw7LazadHc0VRWZxIWIYDOJ0w6a5d3XNnG+kx"
    "IgNEnzp4Vr38Q+13bO/Qg/m3OsQcM66S70L3DZ/L3xs4nAHNIPoZbjRhMsFp6cCQgYG7wr"
    "WOjKDC65EIwtYgKVUPkTMCxIRRq0VFNfEB0jKkW2YTAhVmlHHU08kY307zZUCJ5AMoUmbX"
    "h4pGIdafAHtMTXxUx50qGhBQara+zeXK6Q5YLL7u8HHz7ynux2Y0XFhj1HXu/Fkkwxcrvb"
    "tq6dMB3WNoEImoBAzTcNNkpnxkK0HjEVENOG7lA1T6DBJ2AbDIzmH082UhkGDX4n9qf1pz"
    "M0XzdFGY5k5a4vK0ozA3YqRgx3HREG1M/V+roeIFzaZDe4+ty9PTrv/MIhwBaZmLyRw9Vc"
    "cUVAwFqVg+6hTKcPjSjQV1NgxgPtKoSwpkPdBmUh8GD2lpgLYF6QNufgh2JANCFT+vXs9D"
    "QF43+6txxm2ovjjOmOWG+VodMkrdsY3h6+dA8pU2BNs0Ds19kPyq+vZYFZ7ih3WhuA3Gkl"
    "YsyaghCrJmRQKIBEQf5AW4g+h/FABzVDUGuO6on4kNfyzhN6OkFthIylY/IU6OXBTf9O7t"
    "78zW43t6zvBsevK/dZi8Sly5D0qBMyk3uRxr8D+XODfW18Gw374YPJ7Sd/a7IxAZtgBeEX"
    "BWi+1SmkArWA1U34jGdbWT2ouQerO8MtitFLYmSBSaqV8QtFXomjAgNE4s3rVwkZlyJUxk"
    "08YYP4VTprXbQuzzutS9qFD9SVXKSYfDCU6XnJWNbTLJYBcLyi+H7EJtQniBJFDvOADgkg"
    "Fcag6rDKkbhOyeBdiQUkpN6ONsGLS0wD64rOns4ZkvWDvHt31f3Qb3KQx0CdvQBTUwJosx"
    "Ys4ZDE7RttmkvzsAQgMOHosGmwQTu4DzQ4X2ACkbq8hSo2gyw6sVMq+9e97jl5AQ/euqM3"
    "aD7u4hX09EniabDpOeBYvLgkan0I/CZJ5+cX0ul557LdurhoX566p0G0Ke1Y6A0+sZMhcL"
    "Cvj4o0b2G2dhszENnDegoHY7FSu70BjaW9Enksb1uFKA2dqUUy+wthvQrivX+vgT7OiG1R"
    "FDUYxfpuDgwj8UwJqVaJZJxLFx33RGFf0s6Qu5vu9bU4NPzL2FrQi8fA+tfdaJi0hD2dMC"
    "PXVdL4r2HoVhlxTYGPoRHg4WK5Ht10v4ZX8tX1qBcm2OwCvVI7w4d8gtZuUe0W1W7Ru3GL"
    "hpgPI+IJcflxmvODaI/88x4PAeTsheY7fKnssc6LvGlehOjEiGEwySTcVagg+5Y2yoxIKZ"
    "kRKZoZGWMtxpmU4Y+EB5joX4G8UxoV6X+V00mhy0SuR8NPonuYKQahXugIwbjACcYGBCge"
    "b08phPiYauUFuSs5LOq90eg6gHpvEIb1/qbXvz064yagnXQSCJl4WANTnerPmdH2q9V4Z8"
    "D7GZoWG9jmTNincTgifFZgFlxe/7EornzpHMgg38xi5qBmbeZCm3ntjW1j5qBmnSQvspUJ"
    "mCjssxU1ctc0wTLBYfFrhQycZ7DV5x2Obd0gOrJO2P3ewkFk9PnhMfQIrINrdXCtAsG1QK"
    "mUzhhvzPnQc1Q/frmFBiDxtNgB+9a5TIXwXu0YgQycwTHw3gC0lDH7u+GClsEkn5jc2yxm"
    "PislFIF15miyBUcZhmh1w65P2OTgz3j1On9OrXeAaxanhWk4TWRqYnsydaXCHLGbhsqVCM"
    "Kr1Gjy+qCJCSe7J1ByPJlv4oIV0r+Xepkd/eLk+DD/H4E1OTws+leunjuXqvk6CpGMfrVK"
    "uiMkcRNC4385aXs+470GVbIlkMhmjgOnvlfCafKSzx3hii0hrSJyHhHZGiuRZK4iPPFMNw"
    "s6W5LcUoCD55TjYbTrApLFdaoEVJ7lHq5zGsPR/Y5rMk0PeMn7LnZHzoEgck91vXsp6t1L"
    "klwsvB9V19XUdTVvntbJo7Imngwl17mL/oevcS9S2iWXyvfyFDm9zfp/tzVOpYfbycVnRN"
    "unVYO9Odh16HGrh2uBQo0b1Uz4ckebltL7VPZZT19co75SPp+S3xfu7o7p/YqF0Y5D2X3f"
    "girSmzMsPBcTRXGidskBFMFtc/uhAD6gnSIn7yVsUtG0Z6Gc9/Ymvns72XVvRzz3uvCsLj"
    "wryKPpDd/qfDURl7moalsaUaqqKjHJcFmVG6EKVlX5uEe4rMoruNqpqspN+SQTDTfJFUc3"
    "/BmwFNIRSLgd8I1dX4F8/a5u/s5GGimpszT7ztIU6L2RokFdpSBITThrwlkTzlSO0oWmrk"
    "7jCIrTkspOgNenLv0u047eim4kh0GS+UYVIiG5/Bgi21QZEHa6VxDdfArsMSIQxbC75NIF"
    "n0r9C30Z6xQyVLnv/2G2+h9laxSg"
)
