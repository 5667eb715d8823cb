from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Read-side schema the ORM cannot express: the weighted full-text vector with its GIN index,
# pg_trgm for typo-tolerant title search, and the created_at keyset index.
async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        ALTER TABLE "notes" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english', "title"), 'A')
            || setweight(to_tsvector('english', "body"), 'B')
        ) STORED;
        CREATE INDEX "notes_search_gin" ON "notes" USING gin ("search");
        CREATE INDEX "notes_title_trgm" ON "notes" USING gin ("title" gin_trgm_ops);
        CREATE INDEX "notes_owner_created_id" ON "notes" ("owner_id", "created_at", "id");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "notes_owner_created_id";
        DROP INDEX IF EXISTS "notes_title_trgm";
        DROP INDEX IF EXISTS "notes_search_gin";
        ALTER TABLE "notes" DROP COLUMN IF EXISTS "search";"""


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
