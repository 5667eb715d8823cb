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

-- Copy first, index after (as the seed does). change_xid/change_seq keep their values.
INSERT INTO notes (id, owner_id, title, body, pinned, archived, version, created_at,
                   updated_at, deleted_at, change_xid, change_seq)
SELECT id, owner_id, title, body, pinned, archived, version, created_at,
       updated_at, deleted_at, change_xid, change_seq
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
CREATE INDEX ON notes (owner_id, change_xid, change_seq);
CREATE INDEX ON notes USING gin (search);
CREATE INDEX ON notes USING gin (title gin_trgm_ops);
-- Row triggers on a partitioned table reach every partition (PostgreSQL 13+).
CREATE TRIGGER notes_track_change BEFORE UPDATE ON notes
    FOR EACH ROW EXECUTE FUNCTION track_note_change();

ALTER TABLE revisions ADD PRIMARY KEY (owner_id, id),
    ADD UNIQUE (owner_id, note_id, version),
    ADD FOREIGN KEY (owner_id, note_id) REFERENCES notes (owner_id, id) ON DELETE CASCADE;
ALTER TABLE note_tags ADD PRIMARY KEY (owner_id, note_id, tag_id),
    ADD FOREIGN KEY (owner_id, note_id) REFERENCES notes (owner_id, id) ON DELETE CASCADE,
    ADD FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE;
CREATE INDEX ON note_tags (owner_id, tag_id, note_id);
COMMIT;
VACUUM (ANALYZE) notes, revisions, note_tags;
