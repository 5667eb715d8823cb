"""Sample the service worker with py-spy under load, and summarise the collapsed stacks."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from benchmarks.servers import BIN


def ensure_py_spy() -> Path:
    py_spy = BIN / "py-spy"
    if not py_spy.exists():
        subprocess.run([str(BIN / "pip"), "install", "--quiet", "py-spy"], check=True)  # noqa: S603
    return py_spy


def record(pid: int, output: Path, seconds: float) -> subprocess.Popen[bytes]:
    """Start sampling `pid` for `seconds`, as raw collapsed stacks; the caller waits.

    Blocking mode (the default) pauses the worker for each sample: slower, but every stack is
    whole, where --nonblocking leaves about a third of async stacks cut off at an await."""
    command = [
        str(ensure_py_spy()), "record", "--pid", str(pid), "--duration", f"{seconds:g}",
        "--rate", "100", "--format", "raw", "--output", str(output),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like `function (path/to/module.py:123)`; drop the line number.
    name, _, where = frame.partition(" (")
    module = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/wtb/", "/lib/python3.11/"):
        if marker in module:
            module = module.split(marker, 1)[1]
    return f"{name} ({module})"


def summarise(path: Path, top: int = 25) -> list[tuple[str, float, float]]:
    """(frame, inclusive %, self %) of the busiest frames, busiest first, as shares of the
    event-loop thread's samples (idle anyio worker threads are left out)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack.startswith("<module>") or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";")]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    if total == 0:
        return []
    return [
        (frame, 100 * count / total, 100 * own[frame] / total)
        for frame, count in inclusive.most_common(top)
    ]


# Frames worth a line in the report whatever their rank: where a request's CPU goes.
WATCH = (
    "notes_service/",
    "Connection.reset",
    "_make_query",
    "QueryBuilder.get_sql",
    "PostgresConnection._compile",
    "run_in_threadpool",
    "serialize_response",
    "BaseModel.model_validate",
    "Connection.fetch ",
    "execute_insert",
    "RequestResponseCycle.send",
)


def watched(path: Path) -> list[tuple[str, float, float]]:
    return [row for row in summarise(path, top=10_000) if any(w in row[0] for w in WATCH)]


def top_self(path: Path, top: int = 15) -> list[tuple[str, float]]:
    rows = summarise(path, top=10_000)
    rows.sort(key=lambda row: row[2], reverse=True)
    return [(frame, own) for frame, _, own in rows[:top]]


# Library -> path fragments. A sample is charged to the innermost frame that matches one, so
# stdlib helpers (copy, json, uuid) count towards the library that called them.
LIBRARIES = (
    ("asyncpg driver", ("asyncpg/",)),
    ("Tortoise + pypika", ("tortoise/", "pypika_tortoise/")),
    ("databases + SQLAlchemy", ("databases/", "sqlalchemy/")),
    ("pydantic", ("pydantic",)),
    ("notes_service", ("notes_service/",)),
    (
        "FastAPI/Starlette/uvicorn/asyncio",
        ("fastapi/", "starlette/", "uvicorn/", "anyio/", "asyncio/"),
    ),
)


def by_library(path: Path) -> list[tuple[str, float]]:
    """Share of the event-loop thread's samples per library, largest first."""
    shares: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack.startswith("<module>") or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        library = "other"
        for frame in reversed(stack.split(";")):
            match = [name for name, parts in LIBRARIES if any(p in frame for p in parts)]
            if match:
                library = match[0]
                break
        shares[library] += count
    return [(name, 100 * count / total) for name, count in shares.most_common()] if total else []
