"""/docs in a real browser: headless Chromium loads the page from a real uvicorn, with every
host but 127.0.0.1 unresolvable, and Swagger UI must render every operation."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.servers import require_binary, service

_OPERATION = re.compile(r'opblock-summary-method">(\w+)</span>.*?data-path="([^"]+)"', re.S)


def test_docs_render_every_operation_offline(database_url: str, tmp_path: Path) -> None:
    chromium = require_binary("chromium", "chromium-browser", "google-chrome")
    with service(tmp_path / "service.log", {"NOTES_DATABASE_URL": database_url}) as svc:
        svc.wait_ready()
        spec = svc.get("/openapi.json").json()
        browser = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                f"--user-data-dir={tmp_path / 'profile'}",
                # A CDN reference would fail to load, even on a machine with internet access.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                # Lets the page's scripts run (fetch /openapi.json, render) before the dump.
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"{svc.url}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert browser.returncode == 0, browser.stderr[-2000:]
        assert svc.terminate() == 0

    dom = browser.stdout
    assert "swagger-ui" in dom
    assert 'class="title">notes-service' in dom
    rendered = {(method.lower(), path) for method, path in _OPERATION.findall(dom)}
    published = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert ("get", "/v1/notes/{note_id}") in published
    assert rendered == published
    # The page and its assets came from the service itself.
    assert "GET /docs/assets/swagger-ui-bundle.js 200" in svc.log()
    assert "GET /openapi.json 200" in svc.log()
