from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Keys with scopes and expiry (SPEC §11). Existing keys get every scope (the default is dropped
# after the backfill: a new key always names its scopes). A change of a key's scopes or expiry is
# announced like a revocation (`notes_key_revoked`, the key id), so every process evicts the key
# from its cache and looks it up again. Self-contained: depends only on migrations 0-8.
async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "api_keys" ADD "last_used_at" TIMESTAMPTZ;
        ALTER TABLE "api_keys" ADD "expires_at" TIMESTAMPTZ;
        ALTER TABLE "api_keys" ADD "scopes" JSONB NOT NULL
            DEFAULT '["notes:read", "notes:write", "keys:write", "webhooks:write"]';
        ALTER TABLE "api_keys" ALTER COLUMN "scopes" DROP DEFAULT;
        CREATE TRIGGER "api_keys_announce_changed" AFTER UPDATE OF "scopes", "expires_at"
            ON "api_keys" FOR EACH ROW
            WHEN (OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
            EXECUTE FUNCTION "announce_key_revoked"();"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TRIGGER IF EXISTS "api_keys_announce_changed" ON "api_keys";
        ALTER TABLE "api_keys" DROP COLUMN "last_used_at";
        ALTER TABLE "api_keys" DROP COLUMN "expires_at";
        ALTER TABLE "api_keys" DROP COLUMN "scopes";"""


MODELS_STATE = (
    "eJztXFtv4jgU/iuIp67UrdoUaHe1Wgk6zAw7LazadHc0VRWZxIWIYGcSZ1o02/++tsnNuZ"
    "VbIEnz0sKxT2J/x3a+cwk/m3OsQcM+6Zr6F7ho/t742URgDumHSMtxowlMM5AzAQFjg3cF"
    "pq7M4IILwdgmFlAJlT8Bw4ZUpEFbtXST6BhRKXIMgwmxSjvqaBKIHKR/d6BC8ASSKbRow8"
    "MjFetIgy/Q9r6aM+VJh4YmDFbX2L25XCELk8vu7wcfPvKe7HZjRcWGM0dBb3NBphj53R1H"
    "106YDmubQAQtQKAWmgYbpTtjT7QcMRUQy4H+ULVAoMEn4BgMjOYfTw5SGQYNfif2p/WnO7"
    "RQN0UZjmTlri8rSnMN7FSMGO46Igyon6/L6waAcGmT3eDqc/f26LzzC4cA22Ri8UYOV/OV"
    "KwIClqoc9ABlOn1oxIG+mgIrGWhfIYI1HeomKHuCAOZgifkA5gVpcw5eFAOiCZnSr2enpx"
    "kY/9O95TDTXhxnTHfEcqsM3SZp2cbwDvCle0iZAnu6DsRhnd2g/PZa9jDLHeVOawWQO61U"
    "jFmTCLFqQQaFAkgc5A+0hehzmAy0qBmBWnNVT7wPeS3vPKGnE9RGyFi4Js+AXh7c9O/k7s"
    "3f7HZz2/5ucPy6cp+1SFy6iEiPOhEz+Rdp/DuQPzfY18a30bAfPZj8fvK3JhsTcAhWEH5W"
    "gBZanZ7UQ02wugV/4NlGVhc1d2B1d7hFMXpJjOxhkmllW8Vs/DEL/3U3GiZbN9CIWlZXSe"
    "O/hqHbpIQ7OcOoDAvBnt5heXTT/Ro9R6+uR72oodgFepFDFb6YOm3eYHuJmvX2KvL2MoBN"
    "FMfe6BiN6taWLrKl8TNFXknyqQaIJBs4rBIxLkWohGcoHS/996t01rpoXZ53Wpe0Cx+oL7"
    "nIMPlgKNMzkrmrT7NEV4rjFcf3I7agPkHU4+YwD+iQAFJhAqquez7yrlMyeF+9BeRJgx1t"
    "gWffwxfWFZ09nTMkS4+oe3fV/dBvcpDHQJ09A0tTBLRZC5ZwROL3jTfNpXlUAhCYcHTYNN"
    "igBdwT4iW+QdLDJXxOBQuWpG7sVbe0a7ziOpY72M/HGbER/j8Ga7rf7vWvnM+eS2SkdtvT"
    "0a+W2x57Zqaf78HyCAegxcXRczU/frmFBuDYpj5Lg1B3yZZA2sNU2EK6BucmJhCpC8WCKr"
    "a0LeEaBBe85derKnKITnJLrIb0ElWFh4DJlujIYFJZcPCccjyMtl1AsnedKgGVJ0GPn04J"
    "ZD3xCEsn7uEjNJ9850PgGNIbNB+3ofQ9ffJeWP1vknR+fiGdnncu262Li/blqU/v401ZPL"
    "83+MSovkB43ub+syVrWCNlt9+c6N64v9Rur8D9aa9U7s/bRO5vQTpTm6ydGY3qVRDv3edH"
    "bQKIY1MUtQRv9m4ODCP1TImoVikKeC5ddPwThX3JOkPubrrX196hEV7GtkkvngBren4qrF"
    "NnqLbIUJUrfrDPJ2hJwgV13qLOWxQB3rLnLXggIsET8gIU6c6PHwXJNWnxICDnmFro8KWy"
    "x7oC9KAVoEQnxlppDl+hguxbWinTIWVkOqR4pmOMtQRnUoYvKQ8wr38FKmyzqEj/q5xNCn"
    "0mcj0afvK6R5miCLWpIwSTAicYGxCgZLwDpQjiY6qVF+S+ZL+o90ajawH13iAK6/1Nr397"
    "dMZNQDvpRAiZhDI0ljrVf6yNdlitxnsNvH9Ay3YDyisy4ZDG/ojwWYFZcHn9x6K48qVzIE"
    "W+uY6ZRc3azIU289Ib28TMomZdxVpkKxMwUdjnhMxr17LAIsVhCWtFDJxnsDXkHY4d3SA6"
    "sk/Y/Q7hIDL6/PAYeQTWwbU6uFaB4JrwUpjOGO+WlRm37mUqhPe2hRlv1QbdALSQMfu74o"
    "LesEDooKUJGYuZz0qJRGDdOVpswVGGES8+wxYHf8bf0+fPqeUO8M3itjANt4lMLexMpr7U"
    "M0fipqFyJYbwa2Y02V/7CRHl8L5IjyoLm3DXtTTIDWp7rm1dTlOKcpqSxC4KzjMEKlyH7d"
    "992P5AXmMegftkVpFeRuP1338JTZG8ulwKa8qTQznM+n+3KZTSw+2G+tZEO6RVg7062HV+"
    "ZaOHa9lCsiHXdNVKnZDKLst1imvUN6pzMsKHnru7ZfSwYu+qHUeCh6EFVaTCPBb+SYiiuF"
    "Gh9ACKx21zew+JD2iryMl7CZtU9LcFCuW8t1fx3dvprns75rnXea06r1WQR9MBi8bffNt9"
    "7ZzNpjSiVEkbb5LRrI0foRKTNiHuEc3aBPmcrZI2fvounWj4b5In0Y3wa+YZpEN4q32PLw"
    "SE6m/qVwEO+ypAnaXZdZamQGVpRYO6SkGQmnDWhLMmnJkcpQstXZ0mERS3JZOdgKBP/fuK"
    "ZdrRG9GN9DBIOt+oQiQkl99aYZtqDYTd7hVEN59fscSIQJTA7tJLF0Iq9Q+ArFmnECMI+3"
    "yYvf4P4IbDUg=="
)
