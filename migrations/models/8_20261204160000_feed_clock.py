from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# The change feed's own clock (README, "The change feed"). Before, a change was visible once its
# transaction id fell below the xmin of the server's snapshot: any transaction on the server, in
# any database, held every owner's feed back. Now each viewer has a clock row, `feed_clock`, and
# `feed` one row per (viewer, note) for the note's newest change, at a position (tick, seq):
# - A write leaves its changes pending (tick NULL): statement triggers on notes and tombstones
#   upsert the rows, with no lock beyond the rows themselves, so commits stay group commits.
# - `feed_sequence(viewer)` (the service calls it on a short interval, and before a feed read)
#   gives every committed pending change of the viewer the next tick, in one transaction that
#   holds the viewer's clock row until its commit is visible: ticks follow the order in which they
#   became visible, and a cursor is never passed by a change that becomes visible later. One
#   positioning per viewer runs at a time (an advisory lock, which costs no transaction id when
#   there is nothing to do); rows a writer holds are skipped (SKIP LOCKED): they get a later tick.
# - `seq` (a plain sequence, taken by the write) orders the changes of one tick as they were
#   written; it need not be monotonic across transactions, so it stays right on any number of
#   nodes.
# A permanent deletion keeps the row (its tombstone is the note's last change). Walks are
# index-only by (viewer, tick, seq). The sequencing transaction also announces (NOTIFY) the
# viewer when it has a stream open, once per batch, instead of every write announcing. Existing
# changes keep their order as tick 1 of each owner; the old columns, triggers and indexes go.
async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        LOCK TABLE "notes", "tombstones" IN SHARE ROW EXCLUSIVE MODE;
        CREATE SEQUENCE "feed_seq";
        CREATE TABLE "feed_clock" (
            "viewer_id" INT PRIMARY KEY REFERENCES "owners" ("id") ON DELETE CASCADE,
            "tick" BIGINT NOT NULL
        );
        CREATE TABLE "feed" (
            "viewer_id" INT NOT NULL REFERENCES "owners" ("id") ON DELETE CASCADE,
            "note_id" UUID NOT NULL,
            "tick" BIGINT,
            "seq" BIGINT NOT NULL,
            PRIMARY KEY ("viewer_id", "note_id")
        );
        INSERT INTO "feed" ("viewer_id", "note_id", "tick", "seq")
        SELECT "owner_id", "id", 1,
               row_number() OVER (PARTITION BY "owner_id" ORDER BY "change_xid", "change_seq")
        FROM (SELECT "owner_id", "id", "change_xid", "change_seq" FROM "notes"
              UNION ALL
              SELECT "owner_id", "id", "change_xid", "change_seq" FROM "tombstones") AS c;
        INSERT INTO "feed_clock" ("viewer_id", "tick") SELECT DISTINCT "viewer_id", 1 FROM "feed";
        CREATE UNIQUE INDEX "feed_viewer_position"
            ON "feed" ("viewer_id", "tick", "seq") INCLUDE ("note_id") WHERE "tick" IS NOT NULL;
        CREATE INDEX "feed_pending" ON "feed" ("viewer_id") WHERE "tick" IS NULL;
        CREATE FUNCTION "feed_pend"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO "feed" ("viewer_id", "note_id", "seq")
            SELECT c.owner_id, c.id, nextval('feed_seq') FROM changed c
            ON CONFLICT ("viewer_id", "note_id")
            DO UPDATE SET "tick" = NULL, "seq" = EXCLUDED."seq";
            RETURN NULL;
        END
        $$;
        CREATE FUNCTION "feed_sequence"(viewer integer) RETURNS integer LANGUAGE plpgsql AS $$
        DECLARE
            ids uuid[];
            next_tick bigint;
        BEGIN
            -- One positioning of a viewer at a time, and the rows read after the previous one
            -- has committed: a caller that returns has every change committed before its call
            -- positioned (a feed read's own writes included), bar rows a writer holds now.
            PERFORM pg_advisory_xact_lock(1717920100, viewer);
            SELECT array_agg(p.note_id) INTO ids
            FROM (SELECT f.note_id FROM "feed" f
                  WHERE f.viewer_id = viewer AND f.tick IS NULL
                  FOR UPDATE SKIP LOCKED) AS p;
            IF ids IS NULL THEN
                RETURN 0;
            END IF;
            -- The tick's row, like the lock, is held until this commit is visible.
            UPDATE "feed_clock" c SET "tick" = c.tick + 1 WHERE c.viewer_id = viewer
            RETURNING c.tick INTO next_tick;
            IF NOT FOUND THEN
                INSERT INTO "feed_clock" AS c ("viewer_id", "tick") VALUES (viewer, 1)
                ON CONFLICT ("viewer_id") DO UPDATE SET "tick" = c.tick + 1
                RETURNING c.tick INTO next_tick;
            END IF;
            UPDATE "feed" f SET "tick" = next_tick
            WHERE f.viewer_id = viewer AND f.note_id = ANY(ids);
            IF EXISTS (SELECT 1 FROM "live_owners" WHERE "owner_id" = viewer) THEN
                PERFORM pg_notify('notes_changes', CAST(viewer AS text));
            END IF;
            RETURN cardinality(ids);
        END
        $$;
        DROP TRIGGER "notes_announce_change" ON "notes";
        DROP TRIGGER "tombstones_announce_change" ON "tombstones";
        DROP FUNCTION "announce_note_change"();
        CREATE TRIGGER "notes_feed_insert" AFTER INSERT ON "notes"
            REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "feed_pend"();
        CREATE TRIGGER "notes_feed_update" AFTER UPDATE ON "notes"
            REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "feed_pend"();
        CREATE TRIGGER "tombstones_feed_insert" AFTER INSERT ON "tombstones"
            REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "feed_pend"();
        CREATE TRIGGER "tombstones_feed_update" AFTER UPDATE ON "tombstones"
            REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "feed_pend"();
        DROP TRIGGER "notes_track_change" ON "notes";
        DROP TRIGGER "tombstones_track_change" ON "tombstones";
        DROP FUNCTION "track_note_change"();
        DROP INDEX "notes_owner_change";
        DROP INDEX "tombstones_owner_change";
        ALTER TABLE "notes" DROP COLUMN "change_xid", DROP COLUMN "change_seq";
        ALTER TABLE "tombstones" DROP COLUMN "change_xid", DROP COLUMN "change_seq";
        DROP SEQUENCE "note_change_seq";"""


# Back to the server-wide horizon: the changes keep their feed order (pending ones last) as
# sequence numbers of one old-style transaction id (0), so a walk of the old feed sees each once.
async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        LOCK TABLE "notes", "tombstones" IN SHARE ROW EXCLUSIVE MODE;
        DROP TRIGGER "tombstones_feed_update" ON "tombstones";
        DROP TRIGGER "tombstones_feed_insert" ON "tombstones";
        DROP TRIGGER "notes_feed_update" ON "notes";
        DROP TRIGGER "notes_feed_insert" ON "notes";
        DROP FUNCTION "feed_pend"();
        DROP FUNCTION "feed_sequence"(integer);
        CREATE SEQUENCE "note_change_seq";
        ALTER TABLE "notes"
            ADD COLUMN "change_xid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
            ADD COLUMN "change_seq" bigint NOT NULL DEFAULT nextval('note_change_seq');
        ALTER TABLE "tombstones"
            ADD COLUMN "change_xid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
            ADD COLUMN "change_seq" bigint NOT NULL DEFAULT nextval('note_change_seq');
        UPDATE "notes" n SET "change_xid" = CAST('0' AS xid8), "change_seq" = o.i
        FROM (SELECT "note_id", row_number() OVER (ORDER BY "viewer_id", "tick" NULLS LAST, "seq") AS i
              FROM "feed") AS o
        WHERE o."note_id" = n."id";
        UPDATE "tombstones" t SET "change_xid" = CAST('0' AS xid8), "change_seq" = o.i
        FROM (SELECT "note_id", row_number() OVER (ORDER BY "viewer_id", "tick" NULLS LAST, "seq") AS i
              FROM "feed") AS o
        WHERE o."note_id" = t."id";
        SELECT setval('note_change_seq', (SELECT count(*) + 1 FROM "feed"));
        CREATE FUNCTION "track_note_change"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.change_xid := pg_current_xact_id();
            NEW.change_seq := nextval('note_change_seq');
            RETURN NEW;
        END
        $$;
        CREATE TRIGGER "notes_track_change" BEFORE UPDATE ON "notes"
            FOR EACH ROW EXECUTE FUNCTION "track_note_change"();
        CREATE TRIGGER "tombstones_track_change" BEFORE UPDATE ON "tombstones"
            FOR EACH ROW EXECUTE FUNCTION "track_note_change"();
        CREATE INDEX "notes_owner_change" ON "notes" ("owner_id", "change_xid", "change_seq");
        CREATE INDEX "tombstones_owner_change"
            ON "tombstones" ("owner_id", "change_xid", "change_seq");
        CREATE FUNCTION "announce_note_change"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM "live_owners" WHERE "owner_id" = NEW.owner_id) THEN
                PERFORM pg_notify('notes_changes', NEW.owner_id::text);
            END IF;
            RETURN NULL;
        END
        $$;
        CREATE CONSTRAINT TRIGGER "notes_announce_change" AFTER INSERT OR UPDATE ON "notes"
            DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION "announce_note_change"();
        CREATE CONSTRAINT TRIGGER "tombstones_announce_change"
            AFTER INSERT OR UPDATE ON "tombstones" DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION "announce_note_change"();
        DROP TABLE "feed";
        DROP TABLE "feed_clock";
        DROP SEQUENCE "feed_seq";"""


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
