"""The write side's errors about notes and revisions (the import's are in importer.py)."""

from __future__ import annotations

import uuid

from notes_service.errors import Conflict, NotFound


class NoteNotFound(NotFound):
    def __init__(self, note_id: uuid.UUID) -> None:
        super().__init__(f"Note {note_id} does not exist")


class NoteTrashed(Conflict):
    slug, title = "note-trashed", "The note is in the trash"

    def __init__(self, note_id: uuid.UUID) -> None:
        super().__init__(f"Note {note_id} is in the trash; restore it before editing")


class RevisionNotFound(NotFound):
    def __init__(self, note_id: uuid.UUID, version: int) -> None:
        super().__init__(f"Note {note_id} has no revision {version}")
