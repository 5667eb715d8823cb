"""`/docs` that works offline: Swagger UI from the `swagger-ui-bundle-v2` package, not a CDN.

Swagger UI 5 is needed: FastAPI publishes OpenAPI 3.1, which Swagger UI 4 refuses to render.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

from notes_service.errors import NotFound

ASSETS_PREFIX = "/docs/assets"
_ASSETS_DIR = Path(str(swagger_ui_path))
# Only what the page loads; the directory also holds source maps and templates.
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="notes-service - Swagger UI",
        swagger_js_url=f"{ASSETS_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PREFIX}/favicon-32x32.png",
        oauth2_redirect_url=None,
    )


@router.get(ASSETS_PREFIX + "/{name}")
async def swagger_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound("No such documentation asset")
    # The bundle changes only with the package version, so clients may cache it for a day.
    return FileResponse(_ASSETS_DIR / name, headers={"Cache-Control": "public, max-age=86400"})
