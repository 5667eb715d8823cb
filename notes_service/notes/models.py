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

    owner_id: int

    class Meta:
        table = "api_keys"


class Note(Model):
    id = fields.UUIDField(primary_key=True)
    owner: fields.ForeignKeyRelation[Owner] = fields.ForeignKeyField(
        "models.Owner", related_name="notes", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    body = fields.TextField(default="")
    pinned = fields.BooleanField(default=False)
    archived = fields.BooleanField(default=False)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    deleted_at = fields.DatetimeField(null=True)

    owner_id: int

    class Meta:
        table = "notes"
        indexes = (("owner_id", "updated_at", "id"),)
