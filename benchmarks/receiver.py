"""A webhook receiver for benchmarks: answers every POST 204, on 127.0.0.1 only.

.venv/bin/python -m benchmarks.receiver PORT
"""

from __future__ import annotations

import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the worker reuses its connections
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(204)
        self.end_headers()
        _Handler.received += 1
        if _Handler.received % 1000 == 0:  # the delivery rate, for the benchmark's record
            print(f"{time.strftime('%H:%M:%S')} {_Handler.received} deliveries", flush=True)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


def main() -> int:
    _Server(("127.0.0.1", int(sys.argv[1])), _Handler).serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
