"""/metrics, read with prometheus_client's own parser (never by splitting lines by hand)."""

from __future__ import annotations

from collections.abc import Iterable

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

# Sample name (`http_requests_total`, `db_pool_size`) -> its series: (labels, value).
Series = dict[str, list[tuple[dict[str, str], float]]]


def series_of(families: Iterable[Metric]) -> Series:
    series: Series = {}
    for family in families:
        for sample in family.samples:
            series.setdefault(sample.name, []).append((sample.labels, sample.value))
    return series


def series(text: str) -> Series:
    """Every sample of a scrape's text, by sample name."""
    return series_of(text_string_to_metric_families(text))


def value(text: str, name: str, **labels: str) -> float:
    """The first series of `name` whose labels include `labels` (a worker's `pid` aside)."""
    for found, number in series(text).get(name, []):
        if labels.items() <= found.items():
            return number
    raise AssertionError(f"no metric {name} {labels or ''} in {sorted(series(text))}")


async def gauge(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """`name` (with `labels`) in a fresh scrape of the client's /metrics."""
    return value((await client.get("/metrics")).text, name, **labels)


async def gauge_is(client: httpx.AsyncClient, name: str, expected: float, **labels: str) -> bool:
    return await gauge(client, name, **labels) == expected
