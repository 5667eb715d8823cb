"""The accounts' tables: owners and their API keys. They share the Tortoise app label "models"
with the notes' tables (platform/db.py lists both modules), so the migrations are unchanged."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Owner(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "owners"


class ApiKey(Model):
    id = fields.UUIDField(primary_key=True)
    owner: fields.ForeignKeyRelation[Owner] = fields.ForeignKeyField(
        "models.Owner", related_name="api_keys", on_delete=fields.CASCADE
    )
    label = fields.CharField(max_length=100, default="")
    # sha256 of the secret: keys are 256-bit random, so a fast hash looked up by index is safe.
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)
    # A list of accounts.scopes names; what the key may do (SPEC §11).
    scopes: fields.Field[list[str]] = fields.JSONField()
    expires_at = fields.DatetimeField(null=True)
    # To the minute, written at most once a minute per key and process (auth.touch).
    last_used_at = fields.DatetimeField(null=True)

    owner_id: int

    class Meta:
        table = "api_keys"
