from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from notes_service.deps import CurrentOwner
from notes_service.notes.schemas import NoteOut, NotePage
from notes_service.queries.repository import NoteQueries

router = APIRouter(prefix="/v1", tags=["queries"])


def note_queries(request: Request) -> NoteQueries:
    return NoteQueries(request.app.state.read_db)


Queries = Annotated[NoteQueries, Depends(note_queries)]


@router.get("/notes", response_model=NotePage)
async def list_notes(
    owner: CurrentOwner,
    queries: Queries,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> NotePage:
    rows = await queries.list_notes(owner.owner_id, limit)
    return NotePage(items=[NoteOut.model_validate(dict(row)) for row in rows], next_cursor=None)
