"""Webhook subscriptions (SPEC §12): make, list, remove, and read a webhook's delivery log."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from notes_service.errors import NotFound, ValidationFailed
from notes_service.webhooks import sql
from notes_service.webhooks.models import Webhook
from notes_service.webhooks.targets import TargetRefused, check_target

EVENTS: tuple[str, ...] = ("note.created", "note.updated", "note.deleted")
# The feed entry's `op` -> the event it is delivered as.
EVENT_OF_OP = {
    "create": "note.created",
    "update": "note.updated",
    "restore": "note.updated",
    "trash": "note.deleted",
    "delete": "note.deleted",
}
WHSEC_PREFIX = "whsec_"


@dataclass(frozen=True, slots=True)
class NewWebhook:
    webhook: Webhook
    secret: str


def generate_secret() -> str:
    return WHSEC_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


async def create_webhook(
    owner_id: int, url: str, events: list[str] | None, *, allow_private: bool
) -> NewWebhook:
    try:
        await check_target(url, allow_private=allow_private)
    except TargetRefused as exc:
        raise ValidationFailed([{"loc": ["body", "url"], "msg": str(exc)}], str(exc)) from None
    wanted = set(events or EVENTS)
    secret = generate_secret()
    async with in_transaction() as conn:
        head = await conn.execute_query_dict(sql.FEED_HEAD, [owner_id])
        tick, seq = (head[0]["tick"], head[0]["seq"]) if head else (0, 0)
        webhook = await Webhook.create(
            owner_id=owner_id,
            url=url,
            events=[e for e in EVENTS if e in wanted],
            secret=secret,
            feed_tick=tick,
            feed_seq=seq,
            using_db=conn,
        )
    return NewWebhook(webhook, secret)


async def list_webhooks(owner_id: int) -> list[Webhook]:
    return await Webhook.filter(owner_id=owner_id).order_by("created_at")


async def owned_webhook(owner_id: int, webhook_id: uuid.UUID) -> Webhook:
    webhook = await Webhook.get_or_none(id=webhook_id, owner_id=owner_id)
    if webhook is None:
        raise NotFound(f"No webhook with id {webhook_id}")
    return webhook


async def delete_webhook(owner_id: int, webhook_id: uuid.UUID) -> None:
    """The webhook and its delivery log (pending deliveries are never sent)."""
    if not await Webhook.filter(id=webhook_id, owner_id=owner_id).delete():
        raise NotFound(f"No webhook with id {webhook_id}")


async def deliveries(webhook_id: uuid.UUID, before_id: int, limit: int) -> list[dict[str, Any]]:
    """The newest deliveries first, those with an id below `before_id`."""
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(
        sql.DELIVERIES_PAGE, [webhook_id, before_id, limit]
    )
    return rows
