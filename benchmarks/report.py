"""The results section: one markdown table per measurement, written between two markers in
benchmarks/RESULTS.md so that the hand-written analysis around it survives a new run."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.ceilings import Ceiling
from benchmarks.load import WrkResult
from benchmarks.servers import ROOT

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START_MARK, END_MARK = "<!-- results:start -->", "<!-- results:end -->"
DEEP_PAGE = 100
RSS_LIMIT_MB = 200.0


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    result: WrkResult
    target: float | None = None  # minimum throughput ratio to the baseline
    ceiling: Ceiling | None = None  # PostgreSQL alone, same statements (pgbench)
    p50_limit_ms: float | None = None  # a latency target instead (one client)
    name: str = ""
    share_target: float | None = None  # or: at least this share of pgbench's rate


def _verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _path_row(row: Row, base: float) -> str:
    r, found = row.result, row.ceiling
    ratio = r.rps / base
    spread = r.p99_ms / r.p50_ms if r.p50_ms else float("inf")
    if row.p50_limit_ms is not None:
        target, met = f"p50 ≤ {row.p50_limit_ms:g} ms", _verdict(r.p50_ms <= row.p50_limit_ms)
        pg = f"{found.latency_ms:.2f} ms (-c1)" if found else "—"
        share = f"{found.latency_ms / r.p50_ms:.2f}" if found and r.p50_ms else "—"
    else:
        share_value = r.rps / found.tps if found else None
        target = f"≥ {row.target:.1f}x" if row.target is not None else "—"
        ok = row.target is not None and ratio >= row.target
        if row.share_target is not None:
            target += f" or ≥ {row.share_target:.2f} of pgbench"
            ok = ok or (share_value is not None and share_value >= row.share_target)
        met = _verdict(ok) if row.target is not None else "—"
        pg = f"{found.tps:,.0f} (-c{found.clients})" if found else "—"
        share = f"{share_value:.2f}" if share_value is not None else "—"
    statements = str(found.statements) if found else "—"
    rss = f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb is not None else "—"
    cpu = f"{r.worker_cpu:.0f}%" if r.worker_cpu is not None else "—"
    return (
        f"| {row.label} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {spread:.2f} "
        f"| {ratio:.2f}x | {target} | {met} | {pg} | {statements} | {share} | {cpu} | {rss} |"
    )


def render(
    facts: dict[str, str],
    baselines: list[WrkResult],
    rows: list[Row],
    pages: dict[str, tuple[WrkResult, WrkResult]],
    peak_rss: float,
    workers: dict[str, dict[str, WrkResult]],
) -> str:
    base = sum(b.rps for b in baselines) / len(baselines)
    out = ["## Measured", ""]
    out += [f"- {name}: {value}" for name, value in facts.items()]
    out += [
        "",
        "Ratios divide by the mean of the two baseline runs (the first and the last run), "
        f"**{base:,.0f} req/s** (first {baselines[0].rps:,.0f}, last {baselines[-1].rps:,.0f}). "
        "*pgbench* is PostgreSQL alone running the statements one request of that path runs "
        "(captured from the code, same binds, prepared as the service prepares them), in the "
        "same run; *÷ pgbench* is the "
        "service's share of that ceiling (for the one-client row: pgbench's latency ÷ the "
        "service's p50).",
        "",
        "| path | req/s | p50 ms | p99 ms | p99/p50 | x baseline | target | met "
        "| pgbench tps | statements | ÷ pgbench | worker CPU | peak RSS MiB |",
        "|---|--:|--:|--:|--:|--:|--:|:-:|--:|--:|--:|--:|--:|",
    ]
    for baseline, when in zip(baselines, ("first", "last"), strict=False):
        out.append(_path_row(Row(f"baseline `GET /items/{{id}}` ({when} run)", baseline), base))
    out += [_path_row(row, base) for row in rows]
    out += [
        "",
        f"Keyset depth: page {DEEP_PAGE} against page 1 of `GET /v1/notes?limit=20` "
        "(target: within 1.2x the first page's latency).",
        "",
        "| load | page 1 p50 ms | page 100 p50 ms | ratio | page 1 p99 ms | page 100 p99 ms "
        "| met |",
        "|---|--:|--:|--:|--:|--:|:-:|",
    ]
    for load, (first, deep) in pages.items():
        ratio = deep.p50_ms / first.p50_ms
        out.append(
            f"| {load} | {first.p50_ms:.2f} | {deep.p50_ms:.2f} | {ratio:.2f}x "
            f"| {first.p99_ms:.2f} | {deep.p99_ms:.2f} | {_verdict(ratio <= 1.2)} |"
        )
    setups = list(workers)
    names = list(next(iter(workers.values())))
    out += [
        "",
        "Throughput by workers (wrk -t2 -c32; req/s, and x baseline). Each setup is a fresh "
        "`notes-service serve --workers N`; PgBouncer (`.ci/pgbouncer`, transaction mode) sits "
        "in front of both pools with `NOTES_DB_STATEMENT_CACHE_SIZE=0`.",
        "",
        "| path | " + " | ".join(setups) + " |",
        "|---|" + "--:|" * len(setups),
    ]
    for name in names:
        cells = []
        for setup in setups:
            r = workers[setup].get(name)
            cells.append(f"{r.rps:,.0f} ({r.rps / base:.2f}x)" if r else "—")
        out.append(f"| `{name}` | " + " | ".join(cells) + " |")
    out += [
        "",
        f"Service worker peak RSS over the one-worker runs: **{peak_rss:.0f} MiB** "
        f"(target < {RSS_LIMIT_MB:.0f} MiB: {_verdict(peak_rss < RSS_LIMIT_MB)}).",
    ]
    return "\n".join(out) + "\n"


def write_results(section: str) -> None:
    text = (
        RESULTS.read_text()
        if RESULTS.exists()
        else f"# Benchmark results\n\n{START_MARK}\n{END_MARK}\n"
    )
    head, _, rest = text.partition(START_MARK)
    _, _, tail = rest.partition(END_MARK)
    RESULTS.write_text(f"{head}{START_MARK}\n{section}{END_MARK}{tail}")
