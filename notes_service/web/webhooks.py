"""Webhooks over HTTP (SPEC §12). Every route here needs `webhooks:write` (accounts/scopes.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from notes_service.contract import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
)
from notes_service.errors import InvalidCursor
from notes_service.web.deps import AppSettings, CurrentOwner, Cursors
from notes_service.webhooks import service
from notes_service.webhooks.models import Webhook

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _out(webhook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=webhook.id,
        url=webhook.url,
        events=list(webhook.events),
        enabled=webhook.enabled,
        created_at=webhook.created_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def create_webhook(
    data: WebhookCreate, owner: CurrentOwner, settings: AppSettings
) -> WebhookCreated:
    made = await service.create_webhook(
        owner.owner_id,
        data.url,
        list(data.events) if data.events else None,
        allow_private=settings.webhook_allow_private_targets,
    )
    return WebhookCreated(**_out(made.webhook).model_dump(), secret=made.secret)


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(owner: CurrentOwner) -> list[WebhookOut]:
    return [_out(w) for w in await service.list_webhooks(owner.owner_id)]


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: uuid.UUID, owner: CurrentOwner) -> Response:
    await service.delete_webhook(owner.owner_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    webhook_id: uuid.UUID,
    owner: CurrentOwner,
    cursors: Cursors,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> DeliveryPage:
    """The webhook's deliveries, newest first."""
    await service.owned_webhook(owner.owner_id, webhook_id)
    binding = cursors.binding(route="deliveries", webhook=str(webhook_id))
    before = 2**63 - 1
    if cursor is not None:
        position = cursors.decode(cursor, binding)
        if len(position) != 1 or not isinstance(position[0], int) or position[0] < 0:
            raise InvalidCursor()
        before = position[0]
    rows = await service.deliveries(webhook_id, before, limit + 1)
    page = rows[:limit]
    next_cursor = cursors.encode(binding, [page[-1]["id"]]) if len(rows) > limit else None
    return DeliveryPage(items=[DeliveryOut(**r) for r in page], next_cursor=next_cursor)
