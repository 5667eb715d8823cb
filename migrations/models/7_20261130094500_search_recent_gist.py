from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


# Broad full-text search ranks the owner's newest `rank_limit` matches. Walking the
# (owner_id, updated_at, id) btree newest first reads every newer note on the heap to test its
# words: after a burst of ~55,000 unrelated notes that walk took ~240 ms for a word in 13% of
# the notes. A GiST index on (updated_at, search) answers "the matches nearest to a far
# anchor", i.e. newest first, testing the words in the index and reading only matches: ~9 ms.
# Only a query with a common word uses it (queries/search_sql.py); a rare word keeps the GIN
# index, far cheaper for it.
# Write cost: a note row's insert ~35 us more (20,000-row batches), a POST-like transaction
# ~0.8x the tps at 16 clients on the 2-core box (GiST inserts of an ever-newer time all adjust
# the same parent keys); see the README.
async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE EXTENSION IF NOT EXISTS btree_gist;
        CREATE INDEX "notes_recent_search" ON "notes" USING gist ("updated_at", "search");"""


# The extension stays: it is harmless, and another object may have come to depend on it.
async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "notes_recent_search";"""


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
