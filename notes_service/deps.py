from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from notes_service.auth import Principal, authenticate

CurrentOwner = Annotated[Principal, Depends(authenticate)]
