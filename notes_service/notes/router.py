from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import TypeAdapter, ValidationError

from notes_service.accounts.auth import Principal, authenticate
from notes_service.contract import (
    ImportOut,
    NoteBatch,
    NoteBatchOut,
    NoteCreate,
    NoteOut,
    NoteUpdate,
    RevisionOut,
    RevisionPage,
    TrashPurged,
)
from notes_service.notes import service
from notes_service.notes.conditional import EntityTags, etag, if_match
from notes_service.notes.idempotency import IdempotencyKey, Outcome
from notes_service.notes.importer import OnConflict
from notes_service.platform.settings import Settings
from notes_service.web.deps import AppSettings, CurrentOwner, Cursors
from notes_service.web.hot import HotHandler

router = APIRouter(prefix="/v1/notes", tags=["notes"])
trash_router = APIRouter(prefix="/v1/trash", tags=["notes"])

IfMatch = Annotated[str | None, Header(alias="If-Match")]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match")]
# 1-255 printable ASCII characters (SPEC §4).
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x20-\x7e]+$"),
]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _with_etag(note: NoteOut) -> Response:
    return Response(
        note.model_dump_json(),
        media_type="application/json",
        headers={"ETag": etag(note.id, note.version)},
    )


def _created(outcome: Outcome, headers: dict[str, str]) -> Response:
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    # orjson writes what JSONResponse would (compact, UTF-8), faster.
    body = orjson.dumps(outcome.body)
    return Response(
        body, status_code=outcome.status, headers=headers, media_type="application/json"
    )


def _note_headers(body: dict[str, Any]) -> dict[str, str]:
    if "id" not in body:  # a stored error response has neither
        return {}
    note_id = uuid.UUID(body["id"])
    return {"Location": f"/v1/notes/{note_id}", "ETag": etag(note_id, body["version"])}


async def _idempotency_key(
    request: Request, key: str | None, settings: Settings
) -> IdempotencyKey | None:
    if key is None:
        return None
    body = await request.body()
    return service.idempotency_key(
        key, request.method, request.url.path, body, settings.idempotency_ttl
    )


async def _create(
    request: Request, owner: Principal, data: NoteCreate, key: str | None, settings: Settings
) -> Response:
    idempotency_key = await _idempotency_key(request, key, settings)
    outcome = await service.create_note(owner.owner_id, data, idempotency_key)
    return _created(outcome, _note_headers(outcome.body))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
async def create_note(
    data: NoteCreate,
    owner: CurrentOwner,
    request: Request,
    settings: AppSettings,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    return await _create(request, owner, data, idempotency_key, settings)


_KEY_HEADER: TypeAdapter[str | None] = TypeAdapter(IdempotencyKeyHeader)


async def hot_create_note(request: Request) -> Response | None:
    """`create_note` in the hot lane (notes_service/web/hot.py): a JSON body FastAPI would
    parse, and an `Idempotency-Key` it would take, validated by the same types. None leaves
    anything else (another media type, invalid JSON or values) to FastAPI."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        return None
    try:
        data = NoteCreate.model_validate(orjson.loads(await request.body()))
        key = _KEY_HEADER.validate_python(request.headers.get("idempotency-key"))
    except (orjson.JSONDecodeError, ValidationError):
        return None
    owner = await authenticate(request)
    return await _create(request, owner, data, key, request.app.state.settings)


@router.post("/batch", status_code=status.HTTP_201_CREATED, response_model=NoteBatchOut)
async def create_notes(
    data: NoteBatch,
    owner: CurrentOwner,
    request: Request,
    settings: AppSettings,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    key = await _idempotency_key(request, idempotency_key, settings)
    outcome = await service.create_notes(owner.owner_id, data.notes, key)
    return _created(outcome, {})


async def _note(owner: Principal, note_id: uuid.UUID, if_none_match: str | None) -> Response:
    body, version = await service.get_note_json(owner.owner_id, note_id)
    current = etag(note_id, version)
    if if_none_match is not None and EntityTags.parse(if_none_match).weak_match(current):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": current})
    return Response(body, media_type="application/json", headers={"ETag": current})


@router.get("/{note_id}", response_model=NoteOut, responses={304: {"description": "ETag matches"}})
async def get_note(
    note_id: uuid.UUID, owner: CurrentOwner, if_none_match: IfNoneMatch = None
) -> Response:
    return await _note(owner, note_id, if_none_match)


# The form of an id nearly every client sends; FastAPI takes others too.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def hot_get_note(request: Request) -> Response | None:
    """`get_note` in the hot lane (notes_service/web/hot.py), for a canonical id."""
    raw = request.path_params["note_id"]
    if not _CANONICAL_UUID.fullmatch(raw):
        return None
    owner = await authenticate(request)
    return await _note(owner, uuid.UUID(raw), request.headers.get("if-none-match"))


# Endpoint -> its form in the hot lane (notes_service/web/hot.py).
HOT_HANDLERS: dict[Callable[..., Any], HotHandler] = {
    get_note: hot_get_note,
    create_note: hot_create_note,
}


@router.patch("/{note_id}", response_model=NoteOut)
async def update_note(
    note_id: uuid.UUID, data: NoteUpdate, owner: CurrentOwner, if_match_header: IfMatch = None
) -> Response:
    note = await service.update_note(owner.owner_id, note_id, data, if_match(if_match_header))
    return _with_etag(note)


@router.delete("/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note(
    note_id: uuid.UUID,
    owner: CurrentOwner,
    permanent: bool = False,
    if_match_header: IfMatch = None,
) -> Response:
    precondition = if_match(if_match_header)
    if permanent:
        await service.delete_permanently(owner.owner_id, note_id, precondition)
    else:
        await service.trash_note(owner.owner_id, note_id, precondition)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{note_id}/restore", response_model=NoteOut)
async def restore_note(
    note_id: uuid.UUID, owner: CurrentOwner, if_match_header: IfMatch = None
) -> Response:
    note = await service.restore_note(owner.owner_id, note_id, if_match(if_match_header))
    return _with_etag(note)


@router.get("/{note_id}/revisions", response_model=RevisionPage)
async def list_revisions(
    note_id: uuid.UUID,
    owner: CurrentOwner,
    cursors: Cursors,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> RevisionPage:
    return await service.list_revisions(owner.owner_id, note_id, cursor, limit, cursors)


@router.get("/{note_id}/revisions/{version}", response_model=RevisionOut)
async def get_revision(note_id: uuid.UUID, version: Version, owner: CurrentOwner) -> RevisionOut:
    return await service.get_revision(owner.owner_id, note_id, version)


@router.post("/{note_id}/revisions/{version}/restore", response_model=NoteOut)
async def restore_revision(
    note_id: uuid.UUID, version: Version, owner: CurrentOwner, if_match_header: IfMatch = None
) -> Response:
    note = await service.restore_revision(
        owner.owner_id, note_id, version, if_match(if_match_header)
    )
    return _with_etag(note)


@trash_router.delete("", response_model=TrashPurged)
async def empty_trash(owner: CurrentOwner) -> TrashPurged:
    return TrashPurged(purged=await service.empty_trash(owner.owner_id))


transfer_router = APIRouter(prefix="/v1", tags=["notes"])


@transfer_router.post("/import", response_model=ImportOut)
async def import_notes(
    request: Request, owner: CurrentOwner, settings: AppSettings, on_conflict: OnConflict = "fail"
) -> ImportOut:
    body = await request.body()
    result = await service.import_ndjson(
        owner.owner_id, body, on_conflict, settings.import_max_lines
    )
    return ImportOut(created=result.created, updated=result.updated, skipped=result.skipped)
