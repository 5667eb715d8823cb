"""Where a webhook may send (SPEC §12): not to loopback, private, link-local (cloud metadata
169.254.169.254 among them), or any other address that is not globally routable, unless
NOTES_WEBHOOK_ALLOW_PRIVATE_TARGETS=true. Checked when a webhook is made (422) and again before
every attempt, on the addresses the name resolves to then."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """The URL is not one a webhook may send to; the message says why."""


def _refused(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def check_shape(url: str) -> tuple[str, int]:
    """The URL's host and port, if it is an http(s) URL a webhook may have."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("the URL must start with http:// or https://")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL must not carry credentials")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"the host {host!r} cannot be resolved ({exc.strerror})") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


async def check_target(url: str, *, allow_private: bool) -> None:
    """Raise TargetRefused unless every address the URL's host resolves to now may be sent to."""
    host, port = check_shape(url)
    if allow_private:
        return
    for address in await resolve(host, port):
        if _refused(address):
            raise TargetRefused(
                f"the host {host!r} is (or resolves to) {address}, a loopback, private, "
                "link-local or otherwise non-public address"
            )
