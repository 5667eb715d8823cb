"""A Server-Sent Events client for the tests, over a real socket (httpx's ASGI transport would
buffer a streaming body)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.raw_http import dechunk, raw_get

STREAM = "/v1/changes/stream"


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    event: str
    data: str
    retry: str = ""

    def json(self) -> Any:
        return json.loads(self.data)


class Events:
    """The events of one open stream, read in the background as they arrive."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.comments = 0
        self.ended = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if fields:
                        self.queue.put_nowait(Event(**fields))
                    fields = {}
                elif line.startswith(":"):
                    self.comments += 1
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    async def next(self, within: float) -> Event:
        return await asyncio.wait_for(self.queue.get(), within)

    async def take(self, count: int, within: float) -> list[Event]:
        """`count` events, all within `within` seconds."""
        async with asyncio.timeout(within):
            return [await self.queue.get() for _ in range(count)]

    def pending(self) -> list[Event]:
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events

    def close(self) -> None:
        self._task.cancel()


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> AsyncIterator[Events]:
    async with client.stream("GET", STREAM, headers=headers, params=params) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        events = Events(response)
        try:
            yield events
        finally:
            events.close()


def stream_client(base_url: str, connections: int = 20) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(30, read=None),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=0),
    )


def raw_stream(port: int, headers: dict[str, str]) -> socket.socket:
    """A stream whose reader takes only the response head and then stops reading."""
    sock = raw_get(port, STREAM, headers, receive_buffer=4096)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 200"), head
    return sock


def read_to_end(sock: socket.socket) -> list[Event]:
    """Every event of a chunked body, up to its last chunk."""
    sock.settimeout(30)
    raw = b""
    while not raw.endswith(b"0\r\n\r\n"):
        data = sock.recv(1 << 20)
        if not data:
            break
        raw += data
    events = []
    for block in dechunk(raw).decode().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if fields:
            events.append(Event(**fields))
    return events
