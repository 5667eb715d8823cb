from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.models import Model

if TYPE_CHECKING:  # only the annotations: Tortoise must discover Owner in accounts.models alone
    from notes_service.accounts.models import Owner


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
    # The note's tag names, sorted by code point (COLLATE "C"): a copy of its `note_tags` links
    # that the write side keeps equal in the same transaction (service.insert_notes,
    # versioning.new_version), so that a list page reads its tags from the row it already has
    # instead of 20 look-ups in note_tags (the page statement at ~0.55x the cost). Tag filters
    # and counts still read `note_tags`. Not `tags`: the relation below has that name.
    tag_names: list[str] = ArrayField(element_type="text", default=list)
    tags: fields.ManyToManyRelation[Tag] = fields.ManyToManyField(
        "models.Tag",
        related_name="notes",
        through="note_tags",
        forward_key="tag_id",
        backward_key="note_id",
        on_delete=fields.CASCADE,
    )

    owner_id: int

    class Meta:
        table = "notes"
        indexes = (("owner_id", "updated_at", "id"),)


class Tag(Model):
    id = fields.IntField(primary_key=True)
    owner: fields.ForeignKeyRelation[Owner] = fields.ForeignKeyField(
        "models.Owner", related_name="tags", on_delete=fields.CASCADE
    )
    # Stored normalised (see contract.clean_tag), so equality here is equality of tags.
    name = fields.CharField(max_length=50)

    owner_id: int

    class Meta:
        table = "tags"
        unique_together = (("owner", "name"),)


# The state of a note at one version; revision n exists for every n up to `Note.version`.
class Revision(Model):
    id = fields.BigIntField(primary_key=True)
    note: fields.ForeignKeyRelation[Note] = fields.ForeignKeyField(
        "models.Note", related_name="revisions", on_delete=fields.CASCADE
    )
    version = fields.IntField()
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    # Tag names, not ids: a revision is a snapshot and must survive later tag changes.
    tags: fields.JSONField[list[str]] = fields.JSONField(default=list)
    pinned = fields.BooleanField()
    archived = fields.BooleanField()
    deleted = fields.BooleanField()
    created_at = fields.DatetimeField()

    note_id: uuid.UUID

    class Meta:
        table = "revisions"
        unique_together = (("note", "version"),)


# What is left of a permanently deleted note, for the change feed.
class Tombstone(Model):
    id = fields.UUIDField(primary_key=True)
    owner: fields.ForeignKeyRelation[Owner] = fields.ForeignKeyField(
        "models.Owner", related_name="tombstones", on_delete=fields.CASCADE
    )
    # One past the note's last version: the deletion is itself a change.
    version = fields.IntField()
    deleted_at = fields.DatetimeField()

    owner_id: int

    class Meta:
        table = "tombstones"
        indexes = (("owner_id", "deleted_at"),)


# A completed request under an Idempotency-Key. It is only ever written in the transaction that
# does the work, so a record exists exactly when that work committed.
class IdempotencyRecord(Model):
    id = fields.BigIntField(primary_key=True)
    owner: fields.ForeignKeyRelation[Owner] = fields.ForeignKeyField(
        "models.Owner", related_name="idempotency_records", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=255)
    request_hash = fields.CharField(max_length=64)
    status_code = fields.SmallIntField()
    response: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField(db_index=True)

    owner_id: int

    class Meta:
        table = "idempotency_keys"
        unique_together = (("owner", "key"),)
