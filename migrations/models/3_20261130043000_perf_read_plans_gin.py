from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Plans: an earlier version of migration 2 set `plan_cache_mode = force_custom_plan` on the
# whole database. An app should not reconfigure a database it may not own, and the read side
# no longer needs it (its statements are shaped so that their generic plans are good, and
# search is planned per execution): undo it where it was set, and only that exact setting.
#
# The GIN indexes (full text and title trigrams) queue new entries in a pending list that every
# search scans until a vacuum or a full list merges it; at the default 4 MB, ~25,000 inserts
# left 40,000 tuples there and slowed the rare-word search 3x. A 256 kB list keeps a search's
# extra scan small and most of the batching's write speed (inserts measured at ~0.9x the
# default, where `fastupdate = off` measured ~0.6x; see the README).
async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        DO $$ BEGIN
            IF EXISTS (
                SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                WHERE d.datname = current_database() AND s.setrole = 0
                  AND 'plan_cache_mode=force_custom_plan' = ANY (s.setconfig)
            ) THEN
                EXECUTE format('ALTER DATABASE %I RESET plan_cache_mode', current_database());
            END IF;
        END $$;
        ALTER INDEX "notes_search_gin" SET (gin_pending_list_limit = 256);
        ALTER INDEX "notes_title_trgm" SET (gin_pending_list_limit = 256);
        SELECT gin_clean_pending_list('notes_search_gin'), gin_clean_pending_list('notes_title_trgm');"""


# The plan setting is not put back: the statements no longer depend on it.
async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER INDEX "notes_search_gin" RESET (gin_pending_list_limit);
        ALTER INDEX "notes_title_trgm" RESET (gin_pending_list_limit);"""


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
