"""A webhook receiver for tests: an HTTP server on 127.0.0.1 only, in a thread, that records
every request and answers what `answer(n)` says for the n-th request (0-based)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook as Verifier


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    def verified(self, secret: str) -> dict[str, Any]:
        """The body, once its Standard Webhooks signature is verified (raises otherwise)."""
        payload = Verifier(secret).verify(self.body, self.headers)
        assert isinstance(payload, dict)
        return payload


class Receiver:
    def __init__(self, port: int = 0, answer: Callable[[int], int] = lambda n: 204) -> None:
        self.answer = answer
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    n = len(receiver.received)
                    status = receiver.answer(n)
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.received.append(Received(headers, body, status))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a worker's concurrent attempts are not refused

        self.server = Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [orjson.loads(r.body) for r in self.received]

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiver(port: int = 0, answer: Callable[[int], int] = lambda n: 204) -> Iterator[Receiver]:
    running = Receiver(port, answer)
    try:
        yield running
    finally:
        running.close()
