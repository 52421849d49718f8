"""PIM-GPT reproduction: latency and energy per decode token, and ratios over GPU/CPU baselines.

The T-token decode is simulated token by token as one continuous command stream: token t attends
over kv length t (1..T), and the channels' state -- open rows, bounds, refresh due cycles (the
absolute tREFI cadence) -- carries from one token into the next. The default engine is the
contract's path, the one the `pim` family runs with `tokens` = T: `mappers.pim.map` then
`sim.pim.simulate` (analytic path, proven equal to `run_fast` and `run_event`), one row per
Einsum; ``engine="fast"`` / ``"event"`` run the same continuous stream on the old engines
(verification, small T only), ``"sampled"`` is the former estimate (independent tokens at kv 1,
T/2, T on `run_fast`, trapezoid rule). Per-token figures are the means over the T tokens. Energy: in-bank
MACs, in-bank column reads, row activations, bus bursts of WR_GB / RD_MAC / cache appends at the
GDDR6 I/O energy, and ASIC power x ASIC time (`sim.pim.energy`). Baselines, both on the cascade
lowered at kv length T (`sim.pim.baselines`): the ideal roofline and the eager-framework model
(per-kernel max(roofline, dispatch overhead)).

Run: ``einspace sweep experiments/pim_gpt.yaml`` (the experiment; `summarize` turns its points
into the table), ``einspace pim --reproduce reports/pim_gpt`` (the same table in process) or
``.venv/bin/python -m experiments.reproductions.pim_gpt OUT_DIR [--engine analytic|fast|event|sampled]
[--tokens T] [--models m1,m2]``.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import math
from pathlib import Path

import pandas as pd

import mappers.pim
import sim.pim
from experiments.families import cascade_of
from experiments.store import RunStore
from mappers.pim import DecodeSteps, map_decode
from sim.pim.analytic import AnalyticRunner
from sim.pim.area import pim_area_mm2
from sim.pim.baselines import (
    BASELINES,
    DISPATCH_OVERHEAD_S,
    PAPER_SPEEDUP,
    eager_decode,
    implied_baseline,
    nocache_roofline_ms,
    roofline_decode,
)
from sim.pim.energy import energy_parts_j
from sim.pim.engine import run_event, run_fast
from sim.pim.spec import PimSystem
from workloads import MODELS, lower
from workloads.errors import SpecError

BREAKDOWN = ("pim_mac_ms", "asic_ms", "data_movement_ms", "refresh_ms")
ENGINES = ("analytic", "fast", "event", "sampled")
AREA = ("area_pim_mac_mm2", "area_global_buffer_mm2", "area_asic_mm2", "area_mm2")
WORKLOAD_KEYS = ("model", "phase", "batch", "seq_len", "kv_len", "layers", "attention", "block", "lm_head",
                 "weight_dtype", "activation_dtype", "kv_dtype")


def token_run(plan, kv_len: int, engine: str = "analytic"):
    """One decode token from an idle system (cycle 0) on the named engine."""
    steps = plan.steps(kv_len)
    std = plan.system.standard
    if engine == "event":
        return run_event(std, steps, plan.system.channels, record=False)
    if engine == "fast":
        return run_fast(std, steps, plan.system.channels)
    return AnalyticRunner(std, plan.system.channels).run(steps)


def run_energy_j(run, plan, tokens: int = 1) -> float:
    """Energy of `run`, which covers `tokens` decode tokens (each appends to the KV cache)."""
    system = plan.system
    asic_s = run.cycles_by_kind()["asic"] * system.standard.tck_ns * 1e-9
    return sum(energy_parts_j(run.counts, asic_s, plan.transfer_bytes * tokens, system).values())


def breakdown_ms(run, tck_ns: float) -> dict[str, float]:
    """A run's latency split: PIM MACs, ASIC, data movement (bus bursts, appends), refresh."""
    k = run.cycles_by_kind()
    out = {"pim_mac_ms": k["pim"] - k["pim_refresh"] - k["pim_transfer"], "asic_ms": k["asic"],
           "data_movement_ms": k["pim_transfer"] + k["transfer"], "refresh_ms": k["pim_refresh"]}
    return {name: v * tck_ns * 1e-6 for name, v in out.items()}


def decode_runs(plan, tokens: int, engine: str = "analytic", *, detail: bool = True):
    """Yield one RunResult per token of a `tokens`-token decode run as one continuous stream.

    `analytic` yields each token as it is simulated; `fast` / `event` simulate the concatenated
    stream of all tokens in one call (exactly the same stream) and yield it once."""
    std, channels = plan.system.standard, plan.system.channels
    if engine == "analytic":
        build = DecodeSteps(plan, runs=True, compact=not detail)
        runner = AnalyticRunner(std, channels)
        for kv in range(1, tokens + 1):
            yield runner.run(build(kv), detail=detail)
        return
    build = DecodeSteps(plan)
    steps = [s for kv in range(1, tokens + 1) for s in build(kv)]
    if engine == "event":
        yield run_event(std, steps, channels, record=False)
    else:
        yield run_fast(std, steps, channels)


def _sampled_totals(plan, tokens: int) -> dict:
    """The former estimate: independent tokens at kv 1, T/2, T, trapezoid weights."""
    tck = plan.system.standard.tck_ns
    weights = [0.25, 0.5, 0.25]
    runs = [token_run(plan, kv, "fast") for kv in (1, max(1, tokens // 2), tokens)]
    out = {"latency_ms_per_token": sum(w * r.cycles * tck * 1e-6 for w, r in zip(weights, runs)),
           "energy_j_per_token": sum(w * run_energy_j(r, plan) for w, r in zip(weights, runs))}
    parts = [breakdown_ms(r, tck) for r in runs]
    for k in BREAKDOWN:
        out[k] = sum(w * p[k] for w, p in zip(weights, parts))
    return out


def decode_totals(plan, tokens: int, engine: str = "analytic") -> dict:
    """Per-token means of a `tokens`-token decode: latency, energy and the latency breakdown."""
    if engine == "sampled":
        return _sampled_totals(plan, tokens)
    tck = plan.system.standard.tck_ns
    cycles, energy = 0, 0.0
    parts = dict.fromkeys(BREAKDOWN, 0.0)
    for run in decode_runs(plan, tokens, engine, detail=False):
        cycles += run.cycles
        energy += run_energy_j(run, plan, 1 if engine == "analytic" else tokens)
        for k, v in breakdown_ms(run, tck).items():
            parts[k] += v
    out = {"latency_ms_per_token": cycles * tck * 1e-6 / tokens, "energy_j_per_token": energy / tokens}
    out.update({k: v / tokens for k, v in parts.items()})
    return out


def baseline_columns(model: str, tokens: int, cascade, lat_ms: float, energy: float) -> dict:
    """Per GPU/CPU baseline: latency, energy, speedup, energy efficiency, implied-baseline columns."""
    row = {}
    for name, spec in BASELINES.items():
        roof = roofline_decode(cascade, spec)
        eager = eager_decode(cascade, spec, DISPATCH_OVERHEAD_S[name])
        for kind, lat_s, e_j in (("roofline", roof["latency_s"], roof["energy_j"]),
                                 ("eager", eager["latency_s"], eager["energy_j"])):
            row[f"{name}_{kind}_latency_ms"] = lat_s * 1e3
            row[f"{name}_{kind}_energy_j"] = e_j
            row[f"speedup_vs_{name}_{kind}"] = lat_s * 1e3 / lat_ms
            row[f"energy_eff_vs_{name}_{kind}"] = e_j / energy
        row[f"{name}_eager_kernels"] = eager["kernels"]
        row.update(implied_baseline(cascade, spec, name, lat_ms))
        nocache = nocache_roofline_ms(model, tokens, spec)
        row[f"{name}_nocache_roofline_latency_ms"] = nocache
        row[f"speedup_vs_{name}_nocache_roofline"] = nocache / lat_ms
    return row


def result_totals(metrics: dict, rows: pd.DataFrame, tokens: int) -> dict:
    """Per-token means of a `tokens`-token decode Result (its totals and per-Einsum rows):
    latency, energy and the latency breakdown (PIM MACs, ASIC, data movement, refresh)."""
    pim, ms = rows[rows["unit"] == "pim"], 1e3 / tokens
    refresh, bus = pim["refresh_s"].sum(), pim["bus_s"].sum()
    return {"latency_ms_per_token": metrics["latency_s"] * ms, "energy_j_per_token": metrics["energy_j"] / tokens,
            "pim_mac_ms": (pim["latency_s"].sum() - refresh - bus) * ms,
            "asic_ms": rows.loc[rows["unit"] == "asic", "latency_s"].sum() * ms,
            "data_movement_ms": (bus + rows.loc[rows["unit"] == "link", "latency_s"].sum()) * ms,
            "refresh_ms": refresh * ms}


def table_row(model: str, tokens: int, totals: dict, area: dict, cascade) -> dict:
    """One row of the reproduction table from per-token totals, the area parts and the baselines."""
    lat_ms, energy = totals["latency_ms_per_token"], totals["energy_j_per_token"]
    row = {"model": model, "tokens": tokens, "latency_ms_per_token": lat_ms, "energy_j_per_token": energy}
    row.update({k: totals[k] for k in BREAKDOWN})
    row.update({k: area[k] for k in AREA})
    row.update(baseline_columns(model, tokens, cascade, lat_ms, energy))
    return row


def reproduce(model: str, tokens: int, system: PimSystem | None = None,
              engine: str = "analytic") -> dict:
    """One row of the reproduction table for `model` generating `tokens` tokens."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    system = system or PimSystem()
    cascade = lower(model, "decode", seq_len=tokens)
    if engine == "analytic":
        run = dataclasses.replace(system, decode_tokens=tokens)
        result = sim.pim.simulate(mappers.pim.map(cascade, run), run)
        totals = result_totals(result.totals(), result.rows, tokens)
    else:
        totals = decode_totals(map_decode(cascade, system), tokens, engine)
    return table_row(model, tokens, totals, pim_area_mm2(system), cascade)


def _workload(point: pd.Series) -> dict:
    """The workload of a stored point (NaN -> None, integral floats -> int)."""
    out = {}
    for key in WORKLOAD_KEYS:
        value = point.get(key)
        if isinstance(value, float):
            value = None if math.isnan(value) else int(value) if value.is_integer() else value
        out[key] = value
    return out


def headline(rows: list[dict]) -> dict[str, float]:
    """Each model's latency per token, and the speedup / energy-efficiency range per baseline."""
    out = {f"{r['model']}.latency_ms_per_token": r["latency_ms_per_token"] for r in rows}
    for dev in ("gpu", "cpu"):
        for kind in ("roofline", "eager"):
            for what in ("speedup_vs", "energy_eff_vs"):
                values = [r[f"{what}_{dev}_{kind}"] for r in rows]
                out[f"{what}_{dev}_{kind}.min"], out[f"{what}_{dev}_{kind}.max"] = min(values), max(values)
    return out


def summarize(points: pd.DataFrame, out_dir: Path) -> dict[str, float]:
    """The reproduction of a finished `experiments/pim_gpt.yaml` sweep: one table row per model
    (its point's totals; the latency breakdown from its per-Einsum rows in the run's store, the
    folder above `out_dir`), `pim_gpt.csv` and `pim_gpt.png` in `out_dir`, and the headline."""
    sel = points[points["family"] == "pim"]
    twice = sel["model"][sel["model"].duplicated()].tolist()
    if twice:
        raise SpecError(f"reproduction pim_gpt: model {twice[0]!r} has several points; fix the design "
                        f"parameters (one point per model)")
    order = list(MODELS)
    sel = sel.iloc[sorted(range(len(sel)), key=lambda i: order.index(sel["model"].iloc[i]))]
    einsums = RunStore(Path(out_dir).parent).einsums()
    rows = []
    for _, point in sel.iterrows():
        tokens = int(point["tokens"])
        per_einsum = einsums[einsums["point_id"] == point["point_id"]]
        totals = result_totals(point.to_dict(), per_einsum, tokens)
        rows.append(table_row(point["model"], tokens, totals, point.to_dict(), cascade_of(_workload(point))))
    write_outputs(rows, Path(out_dir))
    return headline(rows)


def _plot_speedups(ax, rows: list[dict], x) -> None:
    series = [(f"speedup_vs_{d}_{k}", f"{d.upper()} {k}") for d in ("gpu", "cpu") for k in ("roofline", "eager")]
    width = 0.8 / len(series)
    for i, (key, label) in enumerate(series):
        ax.bar(x + (i - 1.5) * width, [r[key] for r in rows], width, label=label)
    for d, marker in (("gpu", "v"), ("cpu", "^")):
        ax.scatter(x, [r[f"speedup_vs_{d}_nocache_roofline"] for r in rows], marker=marker,
                   color="k", zorder=3, label=f"{d.upper()} roofline, no KV cache (hypothesis)")
    for d, (lo, hi) in PAPER_SPEEDUP.items():
        ax.axhspan(lo, hi, alpha=0.12, color="C0" if d == "gpu" else "C2", label=f"paper band vs {d.upper()}")
    ax.set_yscale("log")
    ax.set_xticks(x, [r["model"] for r in rows], rotation=30, ha="right")
    ax.set_ylabel("speedup per decode token (x, log scale)")
    ax.set_title("PIM-GPT speedup over GPU (T4) / CPU baselines")
    ax.legend(fontsize=7)


def _plot_breakdown(ax, rows: list[dict], x) -> None:
    import numpy as np

    bottom = np.zeros(len(rows))
    for key in BREAKDOWN:
        vals = np.array([r[key] for r in rows])
        ax.bar(x, vals, 0.6, bottom=bottom, label=key.removesuffix("_ms").replace("_", " "))
        bottom += vals
    ax.set_xticks(x, [r["model"] for r in rows], rotation=30, ha="right")
    ax.set_ylabel("PIM-GPT latency per token (ms)")
    ax.set_title(f"PIM-GPT latency breakdown ({rows[0]['tokens']}-token decode)")
    ax.legend(fontsize=8)


def write_outputs(rows: list[dict], out_dir: Path) -> dict[str, Path]:
    """Write `pim_gpt.csv` and `pim_gpt.png` (speedups and PIM latency breakdown) to `out_dir`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = out_dir / "pim_gpt.csv", out_dir / "pim_gpt.png"
    with csv_path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    x = np.arange(len(rows))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5))
    _plot_speedups(ax1, rows, x)
    _plot_breakdown(ax2, rows, x)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
    return {"csv": csv_path, "png": png_path}


def main(argv: list[str] | None = None) -> None:
    import time

    ap = argparse.ArgumentParser(description="PIM-GPT reproduction table")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--engine", choices=ENGINES, default="analytic")
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--models", default="gpt2,gpt2-medium,gpt2-large,gpt2-xl,gpt3-125m,gpt3-350m,"
                    "gpt3-760m,gpt3-1.3b", help="comma-separated model names")
    args = ap.parse_args(argv)
    rows = []
    for m in args.models.split(","):
        t0 = time.perf_counter()
        rows.append(reproduce(m, args.tokens, engine=args.engine))
        print(f"{m}: {rows[-1]['latency_ms_per_token']:.4f} ms/token "
              f"({time.perf_counter() - t0:.1f} s wall, {args.engine})", flush=True)
    write_outputs(rows, args.out_dir)


if __name__ == "__main__":
    main()
