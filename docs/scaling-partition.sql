-- The experiment of docs/scaling.md: the migrated schema's notes, revisions and note_tags
-- turned into tables hash-partitioned by owner_id (8 partitions each). NOT a migration of this
-- project: run it only on a scratch copy, e.g.
--   psql -v ON_ERROR_STOP=1 -d notes_scale_out_1m -f docs/scaling-partition.sql
-- The old tables stay as *_flat beside the new ones, so sizes and plans can be compared.
\timing on
BEGIN;
ALTER TABLE notes RENAME TO notes_flat;
ALTER TABLE revisions RENAME TO revisions_flat;
ALTER TABLE note_tags RENAME TO note_tags_flat;

-- Every unique constraint of a partitioned table must contain the partition key: the primary
-- key becomes (owner_id, id), and a note id is unique per owner only (see scaling.md).
CREATE TABLE notes (LIKE notes_flat INCLUDING DEFAULTS INCLUDING GENERATED)
    PARTITION BY HASH (owner_id);
-- revisions and note_tags carry the owner too, so that they can be partitioned the same way
-- and a note's rows live in the same partition number as the note.
CREATE TABLE revisions (owner_id int NOT NULL, LIKE revisions_flat INCLUDING DEFAULTS)
    PARTITION BY HASH (owner_id);
CREATE TABLE note_tags (owner_id int NOT NULL, LIKE note_tags_flat)
    PARTITION BY HASH (owner_id);
DO $$ BEGIN
    FOR k IN 0..7 LOOP
        EXECUTE format('CREATE TABLE notes_p%s PARTITION OF notes '
                       'FOR VALUES WITH (MODULUS 8, REMAINDER %s)', k, k);
        EXECUTE format('CREATE TABLE revisions_p%s PARTITION OF revisions '
                       'FOR VALUES WITH (MODULUS 8, REMAINDER %s)', k, k);
        EXECUTE format('CREATE TABLE note_tags_p%s PARTITION OF note_tags '
                       'FOR VALUES WITH (MODULUS 8, REMAINDER %s)', k, k);
    END LOOP;
END $$;

-- Copy first, index after (as the seed does). The change feed's rows (feed) are not touched:
-- they hold note ids, not row addresses.
INSERT INTO notes (id, owner_id, title, body, pinned, archived, version, created_at,
                   updated_at, deleted_at, tag_names)
SELECT id, owner_id, title, body, pinned, archived, version, created_at,
       updated_at, deleted_at, tag_names
FROM notes_flat;
INSERT INTO revisions (owner_id, id, note_id, version, title, body, tags, pinned, archived,
                       deleted, created_at)
SELECT n.owner_id, r.id, r.note_id, r.version, r.title, r.body, r.tags, r.pinned, r.archived,
       r.deleted, r.created_at
FROM revisions_flat r JOIN notes_flat n ON n.id = r.note_id;
INSERT INTO note_tags (owner_id, note_id, tag_id)
SELECT n.owner_id, nt.note_id, nt.tag_id
FROM note_tags_flat nt JOIN notes_flat n ON n.id = nt.note_id;

ALTER TABLE notes ADD PRIMARY KEY (owner_id, id),
    ADD FOREIGN KEY (owner_id) REFERENCES owners (id) ON DELETE CASCADE;
CREATE INDEX ON notes (owner_id, updated_at, id);
CREATE INDEX ON notes (owner_id, created_at, id);
CREATE INDEX ON notes USING gin (search);
CREATE INDEX ON notes USING gin (title gin_trgm_ops);
-- Statement triggers with transition tables work on a partitioned table (PostgreSQL 13+): the
-- change feed's pending rows (migration feed_clock).
CREATE TRIGGER notes_feed_insert AFTER INSERT ON notes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION feed_pend();
CREATE TRIGGER notes_feed_update AFTER UPDATE ON notes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION feed_pend();

ALTER TABLE revisions ADD PRIMARY KEY (owner_id, id),
    ADD UNIQUE (owner_id, note_id, version),
    ADD FOREIGN KEY (owner_id, note_id) REFERENCES notes (owner_id, id) ON DELETE CASCADE;
ALTER TABLE note_tags ADD PRIMARY KEY (owner_id, note_id, tag_id),
    ADD FOREIGN KEY (owner_id, note_id) REFERENCES notes (owner_id, id) ON DELETE CASCADE,
    ADD FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE;
CREATE INDEX ON note_tags (owner_id, tag_id, note_id);
COMMIT;
VACUUM (ANALYZE) notes, revisions, note_tags;
