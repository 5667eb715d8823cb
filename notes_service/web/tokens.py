"""`POST /v1/changes/stream-tokens`: an API key traded for a short-lived stream token, which a
browser's `EventSource` sends as `?access_token=` (notes_service/accounts/stream_tokens.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from notes_service.accounts.stream_tokens import LIFETIME, StreamTokens
from notes_service.contract import StreamTokenOut
from notes_service.web.deps import CurrentOwner

router = APIRouter(prefix="/v1/changes", tags=["queries"])

DESCRIPTION = f"""A token for opening `GET /v1/changes/stream?access_token=…` where the client
cannot send `Authorization` (a browser's `EventSource`). It is valid for {LIFETIME // 60} minutes
for opening the stream (an open stream runs on), only on that route (401 on every other), and
stops working as soon as the API key it came from is revoked. Get a new one before reconnecting
after `expires_at`."""


@router.post(
    "/stream-tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=StreamTokenOut,
    description=DESCRIPTION,
)
async def create_stream_token(request: Request, owner: CurrentOwner) -> StreamTokenOut:
    tokens: StreamTokens = request.app.state.stream_tokens
    token, expires_at = tokens.issue(owner.key_id)
    return StreamTokenOut(token=token, expires_at=expires_at)
