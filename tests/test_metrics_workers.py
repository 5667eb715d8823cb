"""One /metrics for all workers: `serve --workers 2` under a real uvicorn, scraped over HTTP."""

from __future__ import annotations

import contextlib
import os
import signal
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from tests.support.metrics import Series, series, series_of
from tests.support.servers import Service, service, wait_for

ROUTE = "/healthz"
BATCH = 20


def _route_total(samples: Series, name: str) -> float:
    return sum(value for labels, value in samples.get(name, []) if labels["route"] == ROUTE)


def _served_per_worker(metrics_dir: str) -> list[float]:
    """What each worker alone has counted, from its own file in the shared folder (a worker that
    uvicorn replaced keeps its file: its requests are still part of the total)."""
    counts = []
    for path in sorted(Path(metrics_dir).glob("counter_*.db")):
        try:
            metrics = MultiProcessCollector.merge([str(path)])  # type: ignore[no-untyped-call]
        except struct.error:
            continue  # a worker creating its file this instant: nothing counted in it yet
        counts.append(_route_total(series_of(metrics), "http_requests_total"))
    return counts


def _pool_pids(svc: Service) -> set[str]:
    return {labels["pid"] for labels, _ in series(svc.get("/metrics").text)["db_pool_size"]}


def _kill_workers(svc: Service) -> None:
    pid = svc.process.pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return  # the server has exited, and its workers with it
    svc.kill()  # first, or uvicorn would start new workers in place of the killed ones
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(child), signal.SIGKILL)


def _burst(url: str) -> None:
    # Concurrent, each on a new connection, which either worker may accept.
    with ThreadPoolExecutor(BATCH) as pool:
        answers = list(pool.map(lambda _: httpx.get(url + ROUTE, timeout=30), range(BATCH)))
    assert all(answer.status_code == 200 for answer in answers)


def test_two_workers_answer_one_scrape_with_the_totals_of_both(
    database_url: str, tmp_path: Path
) -> None:
    env = {"NOTES_DATABASE_URL": database_url}
    with service(tmp_path / "service.log", env, "--workers", "2") as svc:
        try:
            svc.wait_ready()
            # Both workers up and reporting their pools, each under its own pid.
            wait_for(lambda: len(_pool_pids(svc)) == 2, 60, "both workers in /metrics")
            environ = Path(f"/proc/{min(_pool_pids(svc))}/environ").read_bytes().split(b"\0")
            metrics_dir = next(
                line.split(b"=", 1)[1].decode()
                for line in environ
                if line.startswith(b"PROMETHEUS_MULTIPROC_DIR=")
            )

            # Traffic until two workers have served some of it (the kernel picks the acceptor).
            sent = 0
            for _ in range(50):
                _burst(svc.url)
                sent += BATCH
                if sum(count > 0 for count in _served_per_worker(metrics_dir)) >= 2:
                    break
            per_worker = _served_per_worker(metrics_dir)
            assert sum(count > 0 for count in per_worker) >= 2 and sum(per_worker) == sent, (
                per_worker
            )

            # Whichever worker a scrape lands on, it reports the sum over both.
            for _ in range(6):
                samples = series(svc.get("/metrics", headers={"Connection": "close"}).text)
                assert _route_total(samples, "http_requests_total") == sent
                assert _route_total(samples, "http_request_duration_seconds_count") == sent
            assert svc.terminate() == 0
        finally:
            _kill_workers(svc)  # after a failure: a killed parent leaves its workers running
    assert not os.path.exists(metrics_dir)  # the folder goes with the server
