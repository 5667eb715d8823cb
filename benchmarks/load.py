"""wrk scenarios (generated Lua), their results, and a resident-memory sampler."""

from __future__ import annotations

import json
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped]

RESULT_MARK = "BENCH_JSON "

# wrk calls done() once with the merged statistics of all threads; latencies are microseconds.
_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

# Each thread starts at its own offset into the id list, so the two threads do not request the
# same rows in lockstep.
_ROTATE = r"""
local ids = {%s}
local prefix = %s
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 7919)
end
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", prefix .. ids[((offset or 0) + n) %% #ids + 1])
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal of ASCII text is a valid Lua literal


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str | None = None
    rotate_ids: list[str] | None = None  # GET url + id, one id per request, round robin

    def lua(self) -> str:
        lines = [f"wrk.method = {_lua_string(self.method)}"]
        for name, value in self.headers.items():
            lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
        if self.body is not None:
            lines.append(f"wrk.body = {_lua_string(self.body)}")
        if self.rotate_ids:
            path = self.url.split("/", 3)[3]
            ids = ",".join(_lua_string(i) for i in self.rotate_ids)
            lines.append(_ROTATE % (ids, _lua_string("/" + path)))
        return "\n".join(lines) + "\n" + _DONE

    def origin(self) -> str:
        return "/".join(self.url.split("/", 3)[:3])


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int  # connect/read/write/timeout errors and HTTP statuses >= 400
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    peak_rss_mb: float | None = None
    worker_cpu: float | None = None  # % of one core used by the service worker

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def run_wrk(
    scenario: Scenario,
    workdir: Path,
    *,
    duration: float,
    threads: int = 2,
    connections: int = 32,
) -> WrkResult:
    script = workdir / f"{scenario.name}.lua"
    script.write_text(scenario.lua())
    target = scenario.origin() if scenario.rotate_ids else scenario.url
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        target,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            data = json.loads(line.removeprefix(RESULT_MARK))
            break
    else:
        raise RuntimeError(f"wrk printed no result for {scenario.name}:\n{done.stdout}")
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


class RssSampler:
    """Samples the resident memory of a process and its children on a background thread, and
    measures the CPU they use between two calls of `window`."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._peak = 0
        self._window_peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._window_started = (time.monotonic(), self._cpu_seconds())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _rss(self) -> int:
        try:
            processes = [self._process, *self._process.children(recursive=True)]
            # The worker is the largest process of the tree (with --workers 1 it is the only one).
            return int(max(p.memory_info().rss for p in processes))
        except psutil.Error:
            return 0

    def _cpu_seconds(self) -> float:
        try:
            processes = [self._process, *self._process.children(recursive=True)]
            return float(sum(sum(p.cpu_times()[:2]) for p in processes))
        except psutil.Error:
            return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self._rss()
            with self._lock:
                self._peak = max(self._peak, rss)
                self._window_peak = max(self._window_peak, rss)
            time.sleep(self._interval)

    def window(self) -> tuple[float, float]:
        """Peak RSS in MiB and CPU use in % of one core since the previous call."""
        now, cpu = time.monotonic(), self._cpu_seconds()
        started, cpu_before = self._window_started
        self._window_started = (now, cpu)
        with self._lock:
            peak, self._window_peak = self._window_peak, self._rss()
        return peak / 2**20, 100 * (cpu - cpu_before) / max(now - started, 1e-9)

    @property
    def peak_mb(self) -> float:
        with self._lock:
            return self._peak / 2**20

    def current_mb(self) -> float:
        return self._rss() / 2**20


def median_of(results: list[WrkResult]) -> WrkResult:
    """One result for several rounds of the same scenario: summed counts, median percentiles."""
    return WrkResult(
        requests=sum(r.requests for r in results),
        seconds=sum(r.seconds for r in results),
        errors=sum(r.errors for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p90_ms=statistics.median(r.p90_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        max_ms=max(r.max_ms for r in results),
    )
