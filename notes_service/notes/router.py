from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from notes_service.deps import CurrentOwner
from notes_service.notes import service
from notes_service.notes.models import Note
from notes_service.notes.schemas import NoteCreate, NoteOut, NoteUpdate

router = APIRouter(prefix="/v1/notes", tags=["notes"])


def note_out(note: Note) -> NoteOut:
    return NoteOut.model_validate(note, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
async def create_note(data: NoteCreate, owner: CurrentOwner, response: Response) -> NoteOut:
    note = await service.create_note(owner.owner_id, data)
    response.headers["Location"] = f"/v1/notes/{note.id}"
    return note_out(note)


@router.get("/{note_id}", response_model=NoteOut)
async def get_note(note_id: uuid.UUID, owner: CurrentOwner) -> NoteOut:
    return note_out(await service.get_note(owner.owner_id, note_id))


@router.patch("/{note_id}", response_model=NoteOut)
async def update_note(note_id: uuid.UUID, data: NoteUpdate, owner: CurrentOwner) -> NoteOut:
    return note_out(await service.update_note(owner.owner_id, note_id, data))


@router.delete("/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note(note_id: uuid.UUID, owner: CurrentOwner) -> Response:
    await service.trash_note(owner.owner_id, note_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
