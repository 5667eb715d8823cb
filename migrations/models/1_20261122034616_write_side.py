from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "idempotency_keys" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "key" VARCHAR(255) NOT NULL,
    "request_hash" VARCHAR(64) NOT NULL,
    "status_code" SMALLINT NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "owner_id" INT NOT NULL REFERENCES "owners" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_idempotency_owner_i_32142d" UNIQUE ("owner_id", "key")
);
CREATE INDEX IF NOT EXISTS "idx_idempotency_created_944834" ON "idempotency_keys" ("created_at");
        CREATE TABLE IF NOT EXISTS "revisions" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "version" INT NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "body" TEXT NOT NULL,
    "tags" JSONB NOT NULL,
    "pinned" BOOL NOT NULL,
    "archived" BOOL NOT NULL,
    "deleted" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "note_id" UUID NOT NULL REFERENCES "notes" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_revisions_note_id_c5f08f" UNIQUE ("note_id", "version")
);
        CREATE TABLE IF NOT EXISTS "tags" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(50) NOT NULL,
    "owner_id" INT NOT NULL REFERENCES "owners" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_tags_owner_i_659ea0" UNIQUE ("owner_id", "name")
);
        CREATE TABLE IF NOT EXISTS "tombstones" (
    "id" UUID NOT NULL PRIMARY KEY,
    "version" INT NOT NULL,
    "deleted_at" TIMESTAMPTZ NOT NULL,
    "owner_id" INT NOT NULL REFERENCES "owners" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_tombstones_owner_i_09bc1a" ON "tombstones" ("owner_id", "deleted_at");
        CREATE TABLE "note_tags" (
    "tag_id" INT NOT NULL REFERENCES "tags" ("id") ON DELETE CASCADE,
    "note_id" UUID NOT NULL REFERENCES "notes" ("id") ON DELETE CASCADE
);
-- Hand-written: aerich leaves the m2m table without keys. One link per (note, tag), found from
-- the note (its tags) and from the tag (its notes).
CREATE UNIQUE INDEX IF NOT EXISTS "uidx_note_tags_note_id_tag_id" ON "note_tags" ("note_id", "tag_id");
CREATE INDEX IF NOT EXISTS "idx_note_tags_tag_id_note_id" ON "note_tags" ("tag_id", "note_id");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "note_tags";
        DROP TABLE IF EXISTS "tombstones";
        DROP TABLE IF EXISTS "idempotency_keys";
        DROP TABLE IF EXISTS "tags";
        DROP TABLE IF EXISTS "revisions";"""


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
