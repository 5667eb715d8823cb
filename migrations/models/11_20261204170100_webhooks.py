from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Webhooks (SPEC §12, docs/webhooks.md): subscriptions, each with its position (feed_tick,
# feed_seq) in the owner's change feed, and their deliveries, which are also the queue: the
# partial indexes serve the workers' claim (due pending deliveries, the oldest per note).
# Self-contained: depends only on migrations 0-8 (owners, feed).
async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "webhooks" (
    "id" UUID NOT NULL PRIMARY KEY,
    "url" VARCHAR(2048) NOT NULL,
    "events" JSONB NOT NULL,
    "secret" VARCHAR(100) NOT NULL,
    "enabled" BOOL NOT NULL,
    "consecutive_failures" INT NOT NULL,
    "feed_tick" BIGINT NOT NULL,
    "feed_seq" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "owner_id" INT NOT NULL REFERENCES "owners" ("id") ON DELETE CASCADE
);
        CREATE TABLE IF NOT EXISTS "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "event_id" VARCHAR(64) NOT NULL UNIQUE,
    "type" VARCHAR(32) NOT NULL,
    "note_id" UUID NOT NULL,
    "payload" JSONB NOT NULL,
    "state" VARCHAR(16) NOT NULL,
    "attempts" INT NOT NULL,
    "last_status" INT,
    "next_attempt_at" TIMESTAMPTZ,
    "delivered_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "webhook_id" UUID NOT NULL REFERENCES "webhooks" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_webhook_del_webhook_e4005d" ON "webhook_deliveries" ("webhook_id", "id");
        CREATE INDEX "webhook_deliveries_due" ON "webhook_deliveries" ("next_attempt_at")
            WHERE "state" = 'pending';
        CREATE INDEX "webhook_deliveries_pending_note" ON "webhook_deliveries"
            ("webhook_id", "note_id", "id") WHERE "state" = 'pending';
        CREATE INDEX "webhooks_owner" ON "webhooks" ("owner_id");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "webhook_deliveries";
        DROP TABLE IF EXISTS "webhooks";"""


MODELS_STATE = (
    "eJztXW1P4zgQ/iuon/YkDkEphTudTmqB3e0d0BN0b1eLUGQS00ZNnW7iANUe//1sNy92ao"
    "embUoS/AVa25PYz9jOzDMT92dj4lrQ8fc6U/tvOGv8vvOzgcAEkg+pmt2dBphOk3JagMG9"
    "w5qCqW2M4YwVgnsfe8DEpPwBOD4kRRb0Tc+eYttFpBQFjkMLXZM0tNEwKQqQ/SOABnaHEI"
    "+gRypu70ixjSz4DP3o63RsPNjQsYTO2ha9Nys38GzKyr586Z19ZC3p7e4N03WCCUpaT2d4"
    "5KK4eRDY1h6VoXVDiKAHMLS4YdBehiOOiuY9JgXYC2DcVSspsOADCBwKRuOPhwCZFIMddi"
    "f6p/Vn2DWumWFc9QfGzfnAMBo5sDNdRHG3EaZA/XyZXzcBhJU26A1OP3euPxy2f2EQuD4e"
    "eqySwdV4YYIAg7koAz1BmQwfOotAn46AJwc6FkhhTbq6CspRQQJzMsViAIuCtDEBz4YD0R"
    "CPyNeD/f0MjP/tXDOYSSuGs0tWxHypXIVVzXkdxTvBl6whYwT8UR6IeZnNoPz6XI4wKxzl"
    "dmsJkNstJca0SoTY9CCFwgB4EeQzUoPtCZQDLUqmoLZC0b3oQ1HTu0joyQCtPnJmocozoB"
    "/0Ls9vBp3Lf+jtJr7/w2H4dQbntKbJSmep0g/tlJrii+x87Q0+79CvO9/7V+fpjSluN/je"
    "oH0CAXYN5D4ZwOJmZ1QaoSZo3YOP7nglrYuSG9B62N2yKL0iSo4wydSyb7q0/wsa/uumfy"
    "XXbiKR1qxt4p3/dhzbxxVcyRlKpVgI+ow2yw+XnW/pffT0ot9NK4peoJvaVOHz1CbVKywv"
    "UVIvrzIvLwf42Aj8lbbRtKzWdJk17T4R5A2ZT9VDWK5gXiSlXIJQBfdQ0l/y79fmQeu4dX"
    "LYbp2QJqyjcclxhsp7VwOyR1J39WEsdaUYXov4fnQ9aA8R8bgZzD3SJYBMKEE1dM/70XUq"
    "Bu9LNIGi0mRFe+Ap9vCFeUVGT8YM8dwj6tycds7OGwzke2COn4BnGQLatMZtuqmSuO1i1a"
    "Q5SZcABIYMHToM2mkBdwlfEitETZewMZWMLFEu7GWXdKi88jqWG1jPuxncCPu/AKvab4/a"
    "185nL4QZ0W67Gv16ue0Lz0z1/p5MD56AFidHN5T8+Pc1dADDVvksTajuik0B1cNUWEK2BS"
    "dTF0NkzgwPmq5nrQlXL7ngNbteXZFDZJBrYnVFLlFXeDAYronOAAxrC447ITaei9adQIPo"
    "OnUF6gnej1x3vCZMX+dXqRNIRXoxi1u4xKOR7vNq74Z/zhQTFL5NvGdyg8bdOn5P1x6+F9"
    "fnt2bz8PC4uX/YPjlqHR8fnezHPtBiVZYz1O19ov6QYBW+7iCN56ZVjrjmdgPHW3OQmkdH"
    "SzhIpJXSQWJ1ooPkQTJSH+cOH6flaoj35oPIPgY48AmKlsTlv5kAx1HuKSnROlGlh83jdr"
    "yj0C9Ze8jNZefiIto0+GnsT8nFJbCqg3i8jA7jrRHGqxbJss0naEU4FR3c0cGdMsBb9eAO"
    "Y2sknlDE4qidn5gqKjSycysgF0wtbvMlZXc6TfZN02SxjZ1csaBYoIbWd3OpcFAzIxzUXA"
    "wH3buWxJkcwGfFAyxqX4M05CxT5PzbINsojC2Ri/7Vp6h52lIUoZ7aCEEZceK6DgRIjnci"
    "lEL8nkgVBXlcsl3Uu/3+hYB6t5eG9ctl9/z6wwFTAWlkY4Ey4cJYnjmyH3OjzYtpvHPg/Q"
    "g9P6STl7SEOYntGcIHJbaCq+s/lsWVr5wDKdqbedQsSmo1l1rNc29sFTWLkjrVt8xaxmBo"
    "0M+SuGvH88BM4bDwUikFF0m2ct7hfWA72Eb+Hr3fWziI1Hy+vUs9AjW5psm1GpBrwptzNr"
    "V418zLuA4vUyO8103MeC2B6hKg2cClf5ec0CtmUb1pakLGZGajMlIMbDhGj044YmEsZui5"
    "HgN/zA4zYM+p+QqI1RLWUImwCo88NxiO4tJIHdJFQ8qNBYRfMtnkeO5LGGV+XahZZWERbj"
    "qXBoWkduTa6nSaSqTTVIS7KLmdIZjCmrZ/97T9G3mNRRD3cqtCnUYTtd9+Ck2ZvLpCEmuq"
    "E0N5m/n/bkMolYc7pPpyos1JabCXB1vHV1Z6uFaNkuVc02UzdTiRTabrlFepr2TnZNCHkb"
    "u7JntYsxf6dlPkITehypSYR+kfCYsSskJqAiWybQt7D4l1aC3m5L3QJjU9gKFUzvvRMr77"
    "kdp1P1rw3HVcS8e1SvJoesOk8VePBMgds1nVjKhU0CYaZDpqEzNUYtCGsz3SUZsknrNW0C"
    "YO36kNjfh1e5m5wb+Ln2F0CK/+b/GFAC7/Rr8K8LavAugozaajNCVKSysb1HUiQbTBqQ1O"
    "bXBm2ijRWTcSC4U7Bkdtn/An7pTnIEptg2zaBgm8XL/ZETavIS3S3G+dLJXU0DrJyGqgla"
    "njzx8hvd8CxupYeyKhD6xYI67uQ9ODEjtQPbkTiRrO70JOXoWIjj1vhJeT2mKEN9q+qxvh"
    "pefYmAG2H6HxAGwn8GQsk9ICVolvzxreL7EpzAP9AIkjiG1zLJnXGSmsglhtUN1KJmsKex"
    "/+WAH6UEojvxryOoFErZB6naKtqRRNpdSMShEoYGLhePa6ZyqHLMnZ/HK1Ovh9C7xTDJua"
    "f+KRfZWHMkS1Fhwvi246n4u5D83S7zlt1kZRs1eMKpE+vdRePi9Tu99X2fxxtgybHPBG7W"
    "tIoRw2lwD3sKkEl1aJ4Ops3g2Q29yrNGDmuEACp5ps5UQ027oO24qBLHU6g2yNBLZ47N4U"
    "IouCtpXd4qC9DN+adv04urWd3i0AxnAylQUTlOYGL1IbYmRjRB/74dH5oes5ME1JrQRryQ"
    "4t2jSwCD5jI5x7KxBKEnF9UFSZE3JC72zVzCtBVmu6zJrWLLF6E60vSywSIsu6KqKU9lay"
    "aeKnJC1rTaK4fr9ztpuiisWZVaa8uw70bHPUkNCeYc1uFtsJkjalybl7L1RmYe8eKtP81c"
    "6xOs+/DjxaIb9xRhdVDoTD5jVEt5if2HYRhkhi86mZNU5EM2s5mbUFM2GbD7OX/wHxcbrp"
)
