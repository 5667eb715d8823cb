"""/docs in a real browser: headless Chromium loads the page from a real uvicorn, with every
host but 127.0.0.1 unresolvable, and Swagger UI must render every operation; and a person can
authorize with a key and create a note from the page. And a web app of another origin (a page
on a second loopback port) uses the API through CORS: it creates a note with `fetch` and
receives it over `EventSource` with a stream token (SPEC §8)."""

from __future__ import annotations

import json
import re
import select
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

# The DevTools protocol over a websocket: `websockets` comes with uvicorn[standard].
from websockets.sync.client import ClientConnection, connect

from tests.support.servers import cli_key, require_binary, service

pytestmark = pytest.mark.browser

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


# Run in the page, one step per evaluation: the clicks and typing a person does in Swagger UI.
# React inputs need the native value setter and an input event to see a value.
_HELPERS = """
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = async (find, what) => {
  const end = Date.now() + 30000;
  while (Date.now() < end) { const found = find(); if (found) return found; await sleep(100); }
  throw new Error("timed out waiting for " + what);
};
const type = (input, value) => {
  const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input), "value").set;
  setter.call(input, value);
  input.dispatchEvent(new Event("input", { bubbles: true }));
};
const $ = (selector) => document.querySelector(selector);
const op = () => $("#operations-notes-createNote");
"""
_STEPS = [
    """(await waitFor(() => $(".auth-wrapper .btn.authorize"), "Authorize")).click();
    type(await waitFor(() => $(".modal-ux input"), "the key field"), ARG);
    (await waitFor(() => $(".modal-ux button.authorize"), "modal Authorize")).click();
    await waitFor(() => [...document.querySelectorAll(".modal-ux button")]
      .some((b) => b.textContent.trim() === "Logout"), "authorized");
    (await waitFor(() => $(".modal-ux .btn-done, .modal-ux .close-modal"), "Close")).click();""",
    """await waitFor(op, "the POST /v1/notes block");
    (op().querySelector(".opblock-summary-control") || op().querySelector(".opblock-summary"))
      .click();
    (await waitFor(() => op().querySelector(".try-out__btn"), "Try it out")).click();""",
    """type(await waitFor(() => op().querySelector("textarea.body-param__text"), "the body"),
      JSON.stringify({ title: "from /docs", tags: ["swagger"] }));""",
    """(await waitFor(() => op().querySelector(".btn.execute"), "Execute")).click();""",
    """const cell = await waitFor(() => op().querySelector(
      ".live-responses-table tr.response .response-col_status"), "the response");
    return cell.textContent.trim();""",
]


def _devtools_port(browser: subprocess.Popen[str], deadline: float) -> int:
    assert browser.stderr is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([browser.stderr], [], [], 1)
        line = browser.stderr.readline() if ready else ""
        found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if found:
            return int(found[1])
        assert browser.poll() is None, "chromium exited"
    raise AssertionError("chromium did not open its DevTools port")


def _command(page: ClientConnection, number: int, method: str, **params: Any) -> dict[str, Any]:
    """Send one DevTools command and return its answer (events that arrive first are dropped)."""
    page.send(json.dumps({"id": number, "method": method, "params": params}))
    while True:
        message: dict[str, Any] = json.loads(page.recv(timeout=120))
        if message.get("id") == number:
            assert "result" in message, (method, message)
            return message


def _run_steps(ws_url: str, docs_url: str, argument: str) -> Any:
    """Load /docs, then run each step in turn; return the last step's value."""
    value = None
    with connect(ws_url, max_size=None, open_timeout=30) as page:
        _command(page, 1, "Page.enable")
        _command(page, 2, "Page.navigate", url=docs_url)
        while json.loads(page.recv(timeout=120)).get("method") != "Page.loadEventFired":
            pass
        for number, step in enumerate(_STEPS, start=3):
            body = step.replace("ARG", json.dumps(argument))
            expression = f"(async () => {{ {_HELPERS}\n{body} }})()"
            message = _command(
                page, number, "Runtime.evaluate",
                expression=expression, awaitPromise=True, returnByValue=True,
            )  # fmt: skip
            assert "exceptionDetails" not in message["result"], (number, message["result"])
            value = message["result"]["result"].get("value")
    return value


@contextmanager
def _browser_page(chromium: str, profile: Path) -> Iterator[str]:
    """Headless Chromium with DevTools open: the websocket URL of its page."""
    browser = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "about:blank",  # pages are loaded through DevTools, to know when they have loaded
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = _devtools_port(browser, time.monotonic() + 60)
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=30).json()
        yield next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
    finally:
        browser.terminate()
        browser.communicate(timeout=30)


def test_docs_authorize_with_a_key_and_create_a_note(database_url: str, tmp_path: Path) -> None:
    chromium = require_binary("chromium", "chromium-browser", "google-chrome")
    auth = cli_key(database_url, owner="swagger")
    key = auth["Authorization"].removeprefix("Bearer ")
    with service(tmp_path / "service.log", {"NOTES_DATABASE_URL": database_url}) as svc:
        svc.wait_ready()
        with _browser_page(chromium, tmp_path / "profile") as page:
            status = _run_steps(page, f"{svc.url}/docs", key)
        assert status == "201"
        listed = svc.get("/v1/notes", headers=auth).json()
        assert [(n["title"], n["tags"]) for n in listed["items"]] == [("from /docs", ["swagger"])]
        assert svc.terminate() == 0


# The web app of another origin: it trades its key for a stream token, opens an EventSource
# with it, creates a note with fetch, and returns what it saw.
_WEB_APP = """(async () => {
  const auth = { Authorization: "Bearer " + KEY };
  const minted = await fetch(API + "/v1/changes/stream-tokens", { method: "POST", headers: auth });
  const { token } = await minted.json();
  const source = new EventSource(API + "/v1/changes/stream?access_token=" + token);
  const change = new Promise((resolve, reject) => {
    source.addEventListener("change", (event) => resolve(JSON.parse(event.data)));
    setTimeout(() => reject(new Error("no change event within 30 s")), 30000);
  });
  await new Promise((resolve, reject) => {
    source.onopen = resolve;
    source.onerror = () => reject(new Error("the stream did not open"));
  });
  const created = await fetch(API + "/v1/notes", {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ title: "from another origin" }),
  });
  const note = await created.json();
  const pushed = await change;
  source.close();
  return { origin: location.origin, minted: minted.status, created: created.status,
           etag: created.headers.get("ETag"), id: note.id, pushed };
})()"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>another origin</title><p>web app</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _page_server() -> Iterator[str]:
    """A page served from a second loopback port: another origin than the service's."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _evaluate_on(ws_url: str, url: str, expression: str) -> Any:
    with connect(ws_url, max_size=None, open_timeout=30) as page:
        _command(page, 1, "Page.enable")
        _command(page, 2, "Page.navigate", url=url)
        while json.loads(page.recv(timeout=120)).get("method") != "Page.loadEventFired":
            pass
        message = _command(
            page, 3, "Runtime.evaluate",
            expression=expression, awaitPromise=True, returnByValue=True,
        )  # fmt: skip
        assert "exceptionDetails" not in message["result"], message["result"]
        return message["result"]["result"]["value"]


def test_a_page_of_another_origin_creates_a_note_and_hears_it_over_event_source(
    database_url: str, tmp_path: Path
) -> None:
    chromium = require_binary("chromium", "chromium-browser", "google-chrome")
    auth = cli_key(database_url, owner=f"webapp-{time.monotonic_ns()}")
    key = auth["Authorization"].removeprefix("Bearer ")
    with _page_server() as origin:
        env = {"NOTES_DATABASE_URL": database_url, "NOTES_CORS_ORIGINS": origin}
        with service(tmp_path / "service.log", env) as svc:
            svc.wait_ready()
            script = _WEB_APP.replace("API", json.dumps(svc.url)).replace("KEY", json.dumps(key))
            with _browser_page(chromium, tmp_path / "profile") as page:
                seen = _evaluate_on(page, origin + "/", script)
            token_in_log = "access_token=nst_" in svc.log()
            assert svc.terminate() == 0
    assert seen["origin"] == origin != svc.url
    assert (seen["minted"], seen["created"]) == (201, 201)
    assert seen["etag"]  # an exposed header: readable by the page
    assert seen["pushed"]["op"] == "create"
    assert seen["pushed"]["id"] == seen["id"]
    assert seen["pushed"]["note"]["title"] == "from another origin"
    assert not token_in_log
