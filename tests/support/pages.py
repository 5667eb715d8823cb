"""Walking the API's pages: keyset lists (`items` + `next_cursor`) and the change feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

MAX_PAGES = 200


async def pages(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    params: dict[str, Any] | None = None,
) -> AsyncIterator[httpx.Response]:
    """Each page of a keyset list, following `next_cursor` until it is null. Runs the caller's
    loop body between two pages, so a test may write while it walks."""
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        query = (params or {}) | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        yield response
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return
    raise AssertionError(f"{path}: the cursor never ended in {MAX_PAGES} pages")


async def items(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    params: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every item of a keyset list, in order."""
    return [
        item
        async for response in pages(client, path, headers, params)
        for item in response.json()["items"]
    ]


async def read_feed(
    client: httpx.AsyncClient, headers: dict[str, str], cursor: str | None = None, limit: int = 3
) -> tuple[list[dict[str, Any]], str]:
    """Every change after `cursor`, following has_more; returns them and the resume cursor.
    Small pages by default, so that a walk crosses page boundaries."""
    changes: list[dict[str, Any]] = []
    while True:
        params: dict[str, str | int] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/v1/changes", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        changes += page["changes"]
        assert page["next_cursor"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return changes, cursor
