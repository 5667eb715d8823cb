"""The README's walk-through, pasted as written (blocks in order, in one shell), on a free port
and a scratch embedded PostgreSQL: it must work, including the readiness wait, and leave no
PostgreSQL behind once the service is stopped as the README says."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from notes_service.platform.embedded import EmbeddedPostgres
from notes_service.platform.settings import PROJECT_DIR
from tests.support.servers import free_port, require_binary, wait_for


def walkthrough_blocks() -> list[str]:
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Walk-through", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def test_the_readme_walkthrough_works_when_pasted() -> None:
    require_binary("curl")
    blocks = walkthrough_blocks()
    script = "\n".join(blocks)
    assert "make serve &" in script and "--retry-connrefused" in script and "curl -i" in script
    port = free_port()
    # The only edits: a free port instead of 8000 (make's SERVE_FLAGS), nothing else.
    script = script.replace("make serve &", f"make serve SERVE_FLAGS='--port {port}' &")
    script = script.replace("localhost:8000", f"127.0.0.1:{port}")
    scratch = Path(tempfile.mkdtemp(prefix="notes-first-hour-walk-"))
    server = EmbeddedPostgres(scratch / "pgdata", free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
    env |= {"NOTES_EMBEDDED_DIR": str(server.data_dir), "NOTES_EMBEDDED_PORT": str(server.port)}
    shell = subprocess.Popen(
        ["bash", "-c", script],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = shell.communicate(timeout=300)
        assert shell.returncode == 0, out + err
        assert '"status":"ready"' in out
        assert re.search(r"^nsk_[A-Za-z0-9_-]{20,}$", out, re.M), out
        assert "HTTP/1.1 201 Created" in out
        assert re.search(r"^location: /v1/notes/[0-9a-f-]{36}\r?$", out, re.M | re.I), out
        assert '"title":"Groceries"' in out.rsplit("HTTP/1.1 201", 1)[1]
        assert '"snippet":"<mark>milk</mark>, eggs"' in out, out  # the search, as the README shows
        # `kill %1` stopped the service; it stops the embedded server on its way out.
        wait_for(lambda: not server.is_running(), 60, "the embedded PostgreSQL to stop")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGKILL)
        if shell.poll() is None:
            shell.communicate(timeout=10)
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
