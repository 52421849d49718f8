"""The speed targets the issues set, checked against a benchmark run's rows (`reports/bench.md`'s
"Targets" table). A target names one row (module, benchmark, metric) or the ratio of two rows."""
from __future__ import annotations

import operator
from dataclasses import dataclass

OPS = {"<": operator.lt, ">=": operator.ge}


@dataclass(frozen=True)
class Target:
    label: str
    row: tuple[str, str, str]
    op: str
    threshold: float
    over: tuple[str, str, str] | None = None  # the target is row / over

    def measure(self, rows: list[dict]) -> float | None:
        value = lookup(rows, self.row)
        if value is None or self.over is None:
            return value
        base = lookup(rows, self.over)
        return value / base if base else None


def lookup(rows: list[dict], key: tuple[str, str, str]) -> float | None:
    for r in rows:
        if (r["module"], r["benchmark"], r["metric"]) == key:
            return float(r["value"])
    return None


def _dram(std: str, pattern: str, n: int, metric: str) -> tuple[str, str, str]:
    return ("bench_dram", f"dram_fast_{std}_{pattern}_{n}", metric)


ROOFLINE_SWEEP = "roofline sweep, local engine, {} worker(s), 392 points"
TARGETS = (
    *(Target(f"DRAM fast engine, {std} 1M stream (req/s, wall)", _dram(std, "stream", 1_000_000, "requests_per_s"),
             ">=", 5e5) for std in ("DDR4-3200", "GDDR6", "HBM2")),
    *(Target(f"DRAM fast engine, {std} 1M random (req/s, wall)", _dram(std, "random", 1_000_000, "requests_per_s"),
             ">=", 2e5) for std in ("DDR4-3200", "GDDR6", "HBM2")),
    Target("DRAM fast engine, 10M random requests: peak RSS (MB)",
           _dram("DDR4-3200", "random", 10_000_000, "peak_rss"), "<", 300),
    Target("PIM family points/s", ("bench_pim", "pim_family_sweep", "points_per_s"), ">=", 100),
    Target("GPT-2 XL 1,024-token PIM decode in process (s)",
           ("bench_pim", "pim_gpt2xl_decode", "wall_s_family_1024_tokens"), "<", 0.5),
    Target("roofline sweep points/s, --jobs 2 over --jobs 1",
           ("bench_sweep", ROOFLINE_SWEEP.format(2), "throughput"), ">=", 1.7,
           over=("bench_sweep", ROOFLINE_SWEEP.format(1), "throughput")),
    Target("LLaMA-2-7B request (P 512, G 128) on the hybrid system, s per design point (cached unit costs)",
           ("bench_system", "system_llama2_7b_p512_g128_hybrid", "wall_s_warm"), "<", 1.0),
)


def table(rows: list[dict]) -> str:
    """Markdown: target, threshold, measured, met."""
    out = ["| target | threshold | measured | met |", "| --- | --- | ---: | --- |"]
    for t in TARGETS:
        value = t.measure(rows)
        met = "not measured" if value is None else ("yes" if OPS[t.op](value, t.threshold) else "no")
        shown = "—" if value is None else f"{value:.4g}"
        out.append(f"| {t.label} | {t.op} {t.threshold:g} | {shown} | {met} |")
    return "\n".join(out) + "\n"
