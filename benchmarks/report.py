"""The results section: one markdown table per measurement, written between two markers in
benchmarks/RESULTS.md so that the hand-written analysis around it survives a new run."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks import seed
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


def _verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def render(
    facts: dict[str, str],
    baselines: list[WrkResult],
    rows: list[Row],
    pages: dict[str, tuple[WrkResult, WrkResult]],
    peak_rss: float,
    custom: WrkResult,
) -> str:
    base = sum(b.rps for b in baselines) / len(baselines)
    out = ["## Measured", ""]
    out += [f"- {name}: {value}" for name, value in facts.items()]
    out += [
        "",
        "Ratios divide by the mean of the two baseline runs (the first and the last run), "
        f"**{base:,.0f} req/s**.",
        "",
        "| path | req/s | p50 ms | p99 ms | p99/p50 | x baseline | target | met | "
        "p99 ≤ 3xp50 | worker CPU | peak RSS MiB |",
        "|---|--:|--:|--:|--:|--:|--:|:-:|:-:|--:|--:|",
    ]
    for row in rows:
        r = row.result
        ratio = r.rps / base
        spread = r.p99_ms / r.p50_ms if r.p50_ms else float("inf")
        target = f"≥ {row.target:.1f}x" if row.target is not None else "—"
        met = _verdict(ratio >= row.target) if row.target is not None else "—"
        rss = f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb is not None else "—"
        cpu = f"{r.worker_cpu:.0f}%" if r.worker_cpu is not None else "—"
        out.append(
            f"| {row.label} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {spread:.2f} "
            f"| {ratio:.2f}x | {target} | {met} | {_verdict(spread <= 3)} | {cpu} | {rss} |"
        )
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
    out += [
        "",
        "What-if, no code changed: `ALTER DATABASE … SET plan_cache_mode = force_custom_plan`, "
        f"service restarted, `GET /v1/search?q={seed.RARE_WORD}` again: "
        f"**{custom.rps:,.0f} req/s** ({custom.rps / base:.2f}x baseline), "
        f"p50 {custom.p50_ms:.2f} ms, p99 {custom.p99_ms:.2f} ms.",
        "",
        f"Service worker peak RSS over the whole run: **{peak_rss:.0f} MiB** "
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
