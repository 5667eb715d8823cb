"""Throughput by workers (issue 12): the service with `--workers 2`, straight to PostgreSQL and
through PgBouncer in transaction mode (`.ci/pgbouncer`, statement cache 0), on the same paths
as the one-worker rows."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.load import Scenario, WrkResult
from benchmarks.servers import ROOT, Server, free_port

PGBOUNCER_DIR = os.environ.get("PGBOUNCER_DIR", "/tmp/notes-bench-pgbouncer")  # noqa: S108


@contextmanager
def pgbouncer() -> Iterator[int]:
    """PgBouncer on a free port in front of 127.0.0.1:5432; stopped (by its pid) on the way out."""
    port = free_port()
    done = subprocess.run(  # noqa: S603
        ["/bin/bash", str(ROOT / ".ci" / "pgbouncer"), str(port)],
        env=os.environ | {"PGBOUNCER_DIR": PGBOUNCER_DIR},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f".ci/pgbouncer failed:\n{done.stderr}{done.stdout}")
    pid_file = Path(PGBOUNCER_DIR) / "pgbouncer.pid"
    try:
        yield port
    finally:
        if pid_file.exists():
            with suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))


def run(
    env: dict[str, str],
    workdir: Path,
    scenarios: list[Scenario],
    measure: Callable[[Scenario], WrkResult],
    log: Callable[[str], None],
) -> dict[str, dict[str, WrkResult]]:
    """setup -> scenario name -> result, for `--workers 2` direct and through PgBouncer."""
    results: dict[str, dict[str, WrkResult]] = {}

    def serve(label: str, service_env: dict[str, str]) -> None:
        server = Server(
            "service", "", free_port(), service_env, workdir / f"service-{label}.log",
            workers=2, serve_command=True,
        )  # fmt: skip
        server.start("/readyz")
        try:
            log(f"{label}: service on :{server.port}")
            origin = server.url
            results[label] = {
                s.name: measure(_retarget(s, origin)) for s in scenarios
            }  # fmt: skip
        finally:
            server.stop()

    serve("2 workers", env)
    with pgbouncer() as port:
        url = env["NOTES_DATABASE_URL"]
        bounced = env | {
            "NOTES_DATABASE_URL": _via(url, port),
            "NOTES_DB_STATEMENT_CACHE_SIZE": "0",
        }
        serve("2 workers, PgBouncer (transaction mode)", bounced)
    return results


def _retarget(scenario: Scenario, origin: str) -> Scenario:
    path = scenario.url.split("/", 3)[3]
    return Scenario(
        scenario.name, f"{origin}/{path}", scenario.headers, scenario.method, scenario.body,
        scenario.rotate_ids,
    )  # fmt: skip
