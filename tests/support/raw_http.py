"""HTTP/1.1 over a bare socket, for the tests that read an answer at their own pace (or stop
reading): httpx would buffer or pace it for them."""

from __future__ import annotations

import socket


def raw_get(
    port: int, path: str, headers: dict[str, str], receive_buffer: int | None = None
) -> socket.socket:
    """A socket on 127.0.0.1:`port` that has sent `GET path` with the key's Authorization;
    `receive_buffer` shrinks the kernel's window, so a reader that stops is felt soon."""
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: notes.test\r\n"
        f"Authorization: {headers['Authorization']}\r\n\r\n".encode()
    )
    return sock


def dechunk(data: bytes) -> bytes:
    """The body of a chunked transfer (RFC 9112 §7.1), up to its last chunk or the end of
    `data`, whichever comes first."""
    body, rest = bytearray(), data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        body += rest[:size]
        rest = rest[size + 2 :]
    return bytes(body)
