"""Webhook subscriptions and their deliveries (SPEC §12). The deliveries table is also the
queue (docs/webhooks.md): a delivery is due while `state` is pending and `next_attempt_at` has
passed."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Webhook(Model):
    id = fields.UUIDField(primary_key=True)
    owner: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Owner", related_name="webhooks", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=2048)
    events: fields.Field[list[str]] = fields.JSONField()
    secret = fields.CharField(max_length=100)
    enabled = fields.BooleanField(default=True)
    consecutive_failures = fields.IntField(default=0)
    # The owner's feed position (tick, seq) up to which changes were enqueued.
    feed_tick = fields.BigIntField(default=0)
    feed_seq = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    owner_id: int

    class Meta:
        table = "webhooks"


class WebhookDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_id = fields.CharField(max_length=64, unique=True)
    type = fields.CharField(max_length=32)
    note_id = fields.UUIDField()
    payload: fields.Field[dict[str, Any]] = fields.JSONField()
    state = fields.CharField(max_length=16, default="pending")  # pending, delivered, failed
    attempts = fields.IntField(default=0)
    last_status = fields.IntField(null=True)
    next_attempt_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    webhook_id: object

    class Meta:
        table = "webhook_deliveries"
        indexes = (("webhook_id", "id"),)
