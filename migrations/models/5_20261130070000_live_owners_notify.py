from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# NOTIFY is not free: PostgreSQL serialises the commits of notifying transactions (one lock,
# held through the WAL flush), which cost POST a quarter of its throughput here. So a change is
# announced only for owners someone listens for: each worker's listener keeps a row per owner
# with an open change stream in `live_owners` (unlogged: nothing in it outlives a restart, and it
# is rebuilt at every listener connect), and the announcing trigger checks it. The trigger is a
# deferred constraint trigger, so the check runs at commit: a stream that registers its owner
# misses a NOTIFY only from a transaction already committing (it re-reads once, shortly after
# opening, for that). Revocations (rare) are still always announced.
async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE UNLOGGED TABLE "live_owners" (
            "owner_id" INT NOT NULL,
            "listener_pid" INT NOT NULL,
            PRIMARY KEY ("owner_id", "listener_pid")
        );
        DROP TRIGGER IF EXISTS "tombstones_announce_insert" ON "tombstones";
        DROP TRIGGER IF EXISTS "notes_announce_insert" ON "notes";
        CREATE OR REPLACE FUNCTION "track_note_change"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.change_xid := pg_current_xact_id();
            NEW.change_seq := nextval('note_change_seq');
            RETURN NEW;
        END
        $$;
        CREATE OR REPLACE FUNCTION "announce_note_change"() RETURNS trigger LANGUAGE plpgsql AS $$
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
            FOR EACH ROW EXECUTE FUNCTION "announce_note_change"();"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TRIGGER IF EXISTS "tombstones_announce_change" ON "tombstones";
        DROP TRIGGER IF EXISTS "notes_announce_change" ON "notes";
        CREATE OR REPLACE FUNCTION "announce_note_change"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('notes_changes', NEW.owner_id::text);
            RETURN NEW;
        END
        $$;
        CREATE OR REPLACE FUNCTION "track_note_change"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.change_xid := pg_current_xact_id();
            NEW.change_seq := nextval('note_change_seq');
            PERFORM pg_notify('notes_changes', NEW.owner_id::text);
            RETURN NEW;
        END
        $$;
        CREATE TRIGGER "notes_announce_insert" AFTER INSERT ON "notes"
            FOR EACH ROW EXECUTE FUNCTION "announce_note_change"();
        CREATE TRIGGER "tombstones_announce_insert" AFTER INSERT ON "tombstones"
            FOR EACH ROW EXECUTE FUNCTION "announce_note_change"();
        DROP TABLE IF EXISTS "live_owners";"""


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
