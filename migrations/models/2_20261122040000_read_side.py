from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Read-side schema the ORM cannot express: the weighted full-text vector with its GIN index,
# pg_trgm for typo-tolerant title search, the created_at keyset index, and change tracking
# for the feed: every insert or update of a note (and every tombstone) records the writing
# transaction's id (xid8) and a sequence number, so the feed can order changes and never move
# its cursor past a transaction that has not committed yet.
async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        ALTER TABLE "notes" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english', "title"), 'A')
            || setweight(to_tsvector('english', "body"), 'B')
        ) STORED;
        CREATE INDEX "notes_search_gin" ON "notes" USING gin ("search");
        CREATE INDEX "notes_title_trgm" ON "notes" USING gin ("title" gin_trgm_ops);
        CREATE INDEX "notes_owner_created_id" ON "notes" ("owner_id", "created_at", "id");
        CREATE SEQUENCE "note_change_seq";
        ALTER TABLE "notes"
            ADD COLUMN "change_xid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
            ADD COLUMN "change_seq" bigint NOT NULL DEFAULT nextval('note_change_seq');
        ALTER TABLE "tombstones"
            ADD COLUMN "change_xid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
            ADD COLUMN "change_seq" bigint NOT NULL DEFAULT nextval('note_change_seq');
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
            ON "tombstones" ("owner_id", "change_xid", "change_seq");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "tombstones_owner_change";
        DROP INDEX IF EXISTS "notes_owner_change";
        DROP TRIGGER IF EXISTS "tombstones_track_change" ON "tombstones";
        DROP TRIGGER IF EXISTS "notes_track_change" ON "notes";
        DROP FUNCTION IF EXISTS "track_note_change"();
        ALTER TABLE "tombstones" DROP COLUMN IF EXISTS "change_xid", DROP COLUMN IF EXISTS "change_seq";
        ALTER TABLE "notes" DROP COLUMN IF EXISTS "change_xid", DROP COLUMN IF EXISTS "change_seq";
        DROP SEQUENCE IF EXISTS "note_change_seq";
        DROP INDEX IF EXISTS "notes_owner_created_id";
        DROP INDEX IF EXISTS "notes_title_trgm";
        DROP INDEX IF EXISTS "notes_search_gin";
        ALTER TABLE "notes" DROP COLUMN IF EXISTS "search";"""


MODELS_STATE = (
    "eJztXH9v2jgY/iqIv3pSr2pToL3T6STo2MathVOb3U2bpsgkLlgEmyVOO7Tju59t4vwiyQ"
    "gQmqT5h5bXfhP7eW3neX+EH805MaBpn3UX6ANcNn9v/GhiMIfsn0jLaaMJFgtfzgUUjE3R"
    "FSyQNoNLIQRjm1pAp0z+CEwbMpEBbd1CC4oIZlLsmCYXEp11RHjiixyMvjlQo2QC6RRarO"
    "HLVyZG2IDfoS2/LmbaI4KmERosMvi9hVyjy4WQffw4ePNW9OS3G2s6MZ059nsvlnRKsNfd"
    "cZBxxnV42wRiaAEKjcA0+CjdGUvResRMQC0HekM1fIEBH4FjcjCafzw6WOcYNMSd+EfrT3"
    "dogW6aNhyp2kNf1bRmBux0gjnuCFMO1I/V+ro+IELa5De4ed+9P7ns/CIgIDadWKJRwNVc"
    "CUVAwVpVgO6jzKYPzU2gb6bAigfaU4hgzYa6C8pS4MPsLzEPwLwgbc7Bd82EeEKn7OvF+X"
    "kKxv907wXMrJfAmbAdsd4qQ7dJWbdxvH182R7SpsCeZoE4qHMYlH++liVmuaPcaW0BcqeV"
    "iDFvCkOsW5BDoQG6CfIb1kLRHMYDHdaMQG24qmfyn7yWd57QswkaI2wuXZOnQK8O7voPav"
    "fub367uW1/MwV+XbXPWxQhXUakJ52ImbyLNP4dqO8b/Gvj82jYjx5MXj/1c5OPCTiUaJg8"
    "a8AIrE4plaiFrG7BJzLbyephzQNY3R1uUYxeEiNLTFKtTJ4Z8locFRhgGm/eoErEuAyhMm"
    "7iCR/Er8pF66p1fdlpXbMuYqCe5CrF5IOhys5LzrIeZ7EMQOC1ie9bYkE0wYwoCpgHbEgA"
    "6zAGVZdVjuR1SgbvSi4gKfV3tAWePWIaWlds9mzOkK4f5N2Hm+6bflOAPAb67BlYhhZCm7"
    "cQhUQkXt/Nprkyj0oABhOBDp8GH7SL+8CA8wWhEOvLe6gTK8yiEzulsn/kd8/JC/jirzt2"
    "g+bXfbyCHpokngbbngOuxYtLotaHwG+Kcnl5pZxfdq7braur9vW5dxpsNqUdC73BO34yhA"
    "729VGR5i3M1m5jBiJ7XE/haCxWabe3oLGsVyKPFW2rCKVhM7VpZn8hqldBvA/vNbDHGXVs"
    "hqIBN7F+mAPTTDxTIqpVIhmXylXHO1H4l7Qz5OGue3srD43gMrYX7OIxsP71MBomLWFfJ8"
    "rIkU4b/zVMZJcR1xT4OBohHi6X68ld91N0Jd/cjnpRgs0v0Cu1M3zMJ2jtFtVuUe0WvRq3"
    "aEjEMDY8ISE/TXN+MOuRf97jSwg5Z2EEDl8m+1rnRV40L0IRNWMYTDIJ9xQqyL6VrTIjSk"
    "pmRNnMjIyJEeNMqvB7wgNM9q9A3imNivQ/qemk0GMit6PhO9k9yhTDUC8QxjAucEKICQGO"
    "x9tXiiA+Zlp5Qe5Jjot6bzS6DaHeG0Rh/XjX69+fXAgTsE6IhkImPtbA0qfoKTPaQbUa7w"
    "x4P0HL5gPbngkHNI5HhC8KzILL6z8WxZUvnQMZ5ptZzBzWrM1caDOvvbFdzBzWrJPkRbZy"
    "HQ2qo0EViAaFansQp2h2DIl2Vd9+uIcmoPE8zgX73r1MhfBe7RkyCwQ4wCQG3juAlyrhn1"
    "suaBVM8gkivcxiFrPSIiFDd44WX3DskShbvTjhI7EE+DNRbs2RdXeAZxa3hWu4TXRqEWcy"
    "9aTSHLGbhsm1DYRXqeHP9UETE//0TqDkAKjYxAWr/H4tBR57OnLJAU3xdwPW5Him7F+5Au"
    "RcyrxrtzkZ/WrVIG+QxG0ITfBtmt35jP/eTsmWQCKbOQ2d+n7NoSVqFPeEK7bmsYrI+URk"
    "Z6xkVrSK8MQz3Szo7EhySwEOmTOOR/C+C0iV16kSUHnWJ3jOaQxHDzquyTQ95CUfujobuw"
    "eCTJbUBdqlKNAuSTas8H5UXQhSF4K8eB4ij1KQeDKUXJgt+x+/KDtQRTZ2kEkRts/4/V6i"
    "kCyXUu3yVOW8zPp/tUU5pYfbTR5nRDugVYO9Pdh16HGnh2uBQo1bJfkDuaNta78DKocsAC"
    "+uUX9S752S35fu7p7p/YqF0U4j2f3AgirSqx48PBcTRXGjdskBFMltc3uzXQxor8jJawmb"
    "VDTtWSjnvb2N795Odt3bG557XXhWF54V5NH0gq8h/jQRl7moalcaUaqqKjnJaFmVF6EKV1"
    "UFuEe0rMovuNqrqspL+SQTDS/JFUc3ghmwFNIRSrgd8RXTQEV3/XJp/s5GGimpszSHztIU"
    "6EWHokFdpSBITThrwlkTzlSO0oUW0qdxBMVtSWUnwO9Tl36XaUfvRDeSwyDJfKMKkZBcfr"
    "2Pb6oMCLvdK4huPgX2BFOIY9hdculCQKX+SbmMdQoZqtwP/zBb/Q+osKY0"
)
