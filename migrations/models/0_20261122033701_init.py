from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "owners" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS "api_keys" (
    "id" UUID NOT NULL PRIMARY KEY,
    "label" VARCHAR(100) NOT NULL,
    "key_hash" VARCHAR(64) NOT NULL UNIQUE,
    "created_at" TIMESTAMPTZ NOT NULL,
    "revoked_at" TIMESTAMPTZ,
    "owner_id" INT NOT NULL REFERENCES "owners" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "notes" (
    "id" UUID NOT NULL PRIMARY KEY,
    "title" VARCHAR(200) NOT NULL,
    "body" TEXT NOT NULL,
    "pinned" BOOL NOT NULL,
    "archived" BOOL NOT NULL,
    "version" INT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "deleted_at" TIMESTAMPTZ,
    "owner_id" INT NOT NULL REFERENCES "owners" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_notes_owner_i_aef6f5" ON "notes" ("owner_id", "updated_at", "id");
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztmv1v2jgYx/8VlJ866a5aGWXTdDoptHTj1pKpTe+mTZNlEgMWwc4Spy3q+r+f7bw7Lw"
    "e9hgHKLy08fp7E/jx28vVjHrUltZHjH+su/oRW2vvOo0bgEvEPSstvHQ26bmoXBgYnjnSF"
    "LgYLtJJGOPGZBy3G7VPo+IibbORbHnYZpoRbSeA4wkgt7ojJLDUFBP8IEGB0htgcebzh23"
    "duxsRGD8iPv7oLMMXIsXOdxba4t7QDtnKl7fZ2dH4hPcXtJsCiTrAkqbe7YnNKEvcgwPax"
    "iBFtM0SQBxmyM8MQvYxGHJvCHnMD8wKUdNVODTaawsARMLQ/pgGxBIOOvJP40/sz6lrGDY"
    "CxYYKboQmAtgE7ixLBHRMmQD0+hddNgUirJm5w9lG/PnrTfyURUJ/NPNkocWlPMhAyGIZK"
    "6CllPnzkFEGfzaFXDjoJUFjzrj6HcmxIMadTLAHYFFJtCR+Ag8iMzfnXk9evaxj/rV9LzN"
    "xLcqZ8RYRLZRw1dcM2wTvly9cQmEN/vgnibMzLUP7vuRwza5xyv7cG5H6vkrFoyiO2PCRQ"
    "AMiKkM95C8NLVA46H6mgtqPQ4/hDU9O7SfR8gLZBnFWU8hr05uhqeGPqV5/F7Za+/8OR/H"
    "RzKFq60rpSrEd9JU3JRTr/jMyPHfG189UYD9UHU+JnftVEn2DAKCD0HkA7Mztja0wtl3UP"
    "3dHFs7Kej3yBrEfd3ZWk70mSYya1Wab3nDwokwIjwsrTmw1RkssJ7eMinolO/N496b3tvX"
    "vT773jLrKjieVtTcpHY5M/L4XKmi5KFYDkVeR7QT2EZ4QLRYl5xLsEiYVKqEaq0oivs2d4"
    "n+IJFFvTFe3B+0SY5uYVHz0fM2Lhi1y/OdPPh5qEPIHW4h56NsjRFi20SxVL4ltsWnaXqg"
    "USOJN0xDBEpyPuYyq7UVD50l6r8Qn3aF7gf8uRC1w788rltu/tBuCXbgAYZg7aRJ0mAdvb"
    "AGxNnHbX2gJ0a7YA3eIWYELtVRGwiR4qXmCx/wFssOqkyPCLmVMhMcOjK/3Lq5wSuTTGH2"
    "L3DPOzS2OgoHYxIajksTGg1EGQlPNOgxTiEx7VFPLEsl3qA8O4zFEfjFSst1eDId/myhRw"
    "Jxy+5EIZkWUNPWuO7zamnQ1reW/A+w55vujY+ko4E7E9IXyywyq4rRr876f2vm0g83pzkz"
    "TnI9s073Saw93Yc9Kcj2yrQbuc5bYa1FaD2mpQbTUo5F5SDkoSUl0PkmPasRPfyoW97pKO"
    "kre7p2Mvomur6zvyfwFrdXkn9j+4g8dGjnfbXUQ1/cM6eyy8M6uf75kaSeZXNEqNJIq8+H"
    "SNHMjKt+mF3+vs2RSoepnmllByCvF8QPFRx6HgaVIg6MjD1rxMIUQttRIBpj6tRDgUiVBZ"
    "WaxWCdWlxYM4Bjo9XecY6PS0+hhItCn1cr6oNiAcuR8g3WaEGCUMkRIV9teNMa5QYGmIKr"
    "+wxTo/Ow7297FCUANXwKg/dFPP1xTxJC4wKKsgbHO3+/Qv5W9VXQ=="
)
