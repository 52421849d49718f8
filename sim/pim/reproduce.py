"""PIM-GPT reproduction: latency and energy per decode token, and ratios over GPU/CPU baselines.

The T-token decode is simulated token by token as one continuous command stream: token t attends
over kv length t (1..T), and the channels' state -- open rows, bounds, refresh due cycles (the
absolute tREFI cadence) -- carries from one token into the next. The default engine is the
analytic path (`sim.pim.analytic.AnalyticRunner`, proven equal to `run_fast` and `run_event`);
``engine="fast"`` / ``"event"`` run the same continuous stream on the old engines (verification,
small T only), ``"sampled"`` is the former estimate (independent tokens at kv 1, T/2, T on
`run_fast`, trapezoid rule). Per-token figures are the means over the T tokens. Energy: in-bank
MACs (banks x lanes x mac_pj per MAC_AB), in-bank column reads, row activations, bus bursts of
WR_GB / RD_MAC / cache appends at the GDDR6 I/O energy, and ASIC power x ASIC time. Baselines,
both on the cascade lowered at kv length T (`sim.pim.baselines`): the ideal roofline and the
eager-framework model (per-kernel max(roofline, dispatch overhead)).

Run: ``einspace pim --reproduce reports/pim_gpt`` or
``.venv/bin/python -m sim.pim.reproduce OUT_DIR [--engine analytic|fast|event|sampled]
[--tokens T] [--models m1,m2]``.
"""
from __future__ import annotations

import argparse
import csv
import functools
from pathlib import Path

from mappers.pim import map_decode
from sim import roofline
from sim.pim.analytic import AnalyticRunner
from sim.pim.area import pim_area_mm2
from sim.pim.baselines import (
    BASELINES,
    DISPATCH_OVERHEAD_S,
    eager_decode,
    implied_overhead_s,
    kernel_latencies_s,
    offchip_bytes_per_step,
)
from sim.pim.engine import run_event, run_fast
from sim.pim.spec import PimSystem
from sim.pim.stream import AsicStep
from workloads import lower

BREAKDOWN = ("pim_mac_ms", "asic_ms", "data_movement_ms", "refresh_ms")
ENGINES = ("analytic", "fast", "event", "sampled")
# PIM-GPT (arXiv:2310.09385 v1 abstract): speedup over GPU 41-137x, over CPU 631-1074x.
PAPER_SPEEDUP = {"gpu": (41.0, 137.0), "cpu": (631.0, 1074.0)}


class DecodeSteps:
    """`plan.steps(kv)` with the kv-independent steps (weight GEMVs, the KV append, non-attention
    ASIC work) built once and shared by every token; only score/context steps and the attention
    ASIC steps are rebuilt per kv, by the mapper's own `steps` restricted to those rows. With
    `runs`, PIM steps are `PimRuns` (what the analytic path consumes), else `PimStep`.

    `compact` (with `runs`) also sums every stretch of consecutive ASIC/transfer steps into one
    step per category: the PIM channels idle through the whole stretch either way, so total
    cycles, command counts and per-kind cycles are unchanged (not the per-step list)."""

    def __init__(self, plan, *, runs: bool = False, compact: bool = False) -> None:
        self.plan = plan
        self.runs = runs
        self.template = plan.steps(1, runs=runs)
        self.positions = tuple(i for i, d in enumerate(plan.kv_dependent) if d)
        self.compact = compact and runs
        if self.compact:
            self._program = self._compile_program()
            self._idle_steps: dict[tuple[int, int], tuple] = {}

    def _compile_program(self) -> list:
        """Items ("pim", step), ("pim_kv", k) or ("idle", fixed asic, fixed transfer, (k, ...)),
        k indexing the kv-dependent steps."""
        slot = {pos: k for k, pos in enumerate(self.positions)}
        items: list = []
        for i, step in enumerate(self.template):
            if not isinstance(step, AsicStep):
                items.append(("pim_kv", slot[i]) if i in slot else ("pim", step))
                continue
            if not items or items[-1][0] != "idle":
                items.append(["idle", 0, 0, []])
            if i in slot:
                items[-1][3].append(slot[i])
            elif step.category == "transfer":
                items[-1][2] += step.cycles
            else:
                items[-1][1] += step.cycles
        return [tuple(it[:3]) + (tuple(it[3]),) if it[0] == "idle" else it for it in items]

    def _idle(self, asic: int, transfer: int) -> tuple:
        key = (asic, transfer)
        out = self._idle_steps.get(key)
        if out is None:
            out = self._idle_steps[key] = tuple(
                AsicStep("idle", c, cat) for c, cat in ((asic, "asic"), (transfer, "transfer"))
                if c)
        return out

    def __call__(self, kv_len: int) -> list:
        new = self.plan.steps(kv_len, runs=self.runs, only=self.positions)
        if not self.compact:
            steps = list(self.template)
            for i, s in zip(self.positions, new):
                steps[i] = s
            return steps
        out: list = []
        for item in self._program:
            kind = item[0]
            if kind == "pim":
                out.append(item[1])
            elif kind == "pim_kv":
                out.append(new[item[1]])
            else:
                out.extend(self._idle(item[1] + sum(new[k].cycles for k in item[3]), item[2]))
        return out


def token_run(plan, kv_len: int, engine: str = "analytic"):
    """One decode token from an idle system (cycle 0) on the named engine."""
    steps = plan.steps(kv_len)
    std = plan.system.standard
    if engine == "event":
        return run_event(std, steps, plan.system.channels, record=False)
    if engine == "fast":
        return run_fast(std, steps, plan.system.channels)
    return AnalyticRunner(std, plan.system.channels).run(steps)


def _energy_j(run, plan, system: PimSystem, tokens: int = 1) -> float:
    """Energy of `run`, which covers `tokens` decode tokens (each appends to the KV cache)."""
    c = run.counts
    per_mac_ab = system.banks * system.lanes
    bits_burst = 32 * 8
    asic_s = run.cycles_by_kind()["asic"] * system.standard.tck_ns * 1e-9
    transfer_bytes = plan.transfer_bytes * tokens
    pj = (c.get("MAC_AB", 0) * per_mac_ab * system.mac_pj
          + c.get("MAC_AB", 0) * system.banks * bits_burst * system.bank_read_pj_per_bit
          + c.get("ACT_AB", 0) * system.banks * system.act_pj_per_bank
          + (c.get("WR_GB", 0) + c.get("RD_MAC", 0)) * bits_burst * system.io_pj_per_bit
          + transfer_bytes * 8 * system.io_pj_per_bit)
    return pj * 1e-12 + system.asic_power_w * asic_s


def _breakdown(run, tck_ns: float) -> dict[str, float]:
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


def decode_totals(plan, tokens: int, engine: str = "analytic") -> dict:
    """Per-token means of a `tokens`-token decode: latency, energy and the latency breakdown."""
    system = plan.system
    tck = system.standard.tck_ns
    if engine == "sampled":
        kvs = [1, max(1, tokens // 2), tokens]
        weights = [0.25, 0.5, 0.25]
        runs = [token_run(plan, kv, "fast") for kv in kvs]
        out = {"latency_ms_per_token": sum(w * r.cycles * tck * 1e-6 for w, r in zip(weights, runs)),
               "energy_j_per_token": sum(w * _energy_j(r, plan, system)
                                         for w, r in zip(weights, runs))}
        parts = [_breakdown(r, tck) for r in runs]
        for k in BREAKDOWN:
            out[k] = sum(w * p[k] for w, p in zip(weights, parts))
        return out
    cycles, energy = 0, 0.0
    parts = dict.fromkeys(BREAKDOWN, 0.0)
    for run in decode_runs(plan, tokens, engine, detail=False):
        cycles += run.cycles
        n = 1 if engine == "analytic" else tokens
        energy += _energy_j(run, plan, system, n)
        for k, v in _breakdown(run, tck).items():
            parts[k] += v
    out = {"latency_ms_per_token": cycles * tck * 1e-6 / tokens,
           "energy_j_per_token": energy / tokens}
    out.update({k: v / tokens for k, v in parts.items()})
    return out


def reproduce(model: str, tokens: int, system: PimSystem | None = None,
              engine: str = "analytic") -> dict:
    """One row of the reproduction table for `model` generating `tokens` tokens."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    system = system or PimSystem()
    cascade = lower(model, "decode", seq_len=tokens)
    plan = map_decode(cascade, system)
    totals = decode_totals(plan, tokens, engine)
    lat_ms, energy = totals["latency_ms_per_token"], totals["energy_j_per_token"]
    row = {"model": model, "tokens": tokens, "latency_ms_per_token": lat_ms,
           "energy_j_per_token": energy}
    for k in BREAKDOWN:
        row[k] = totals[k]
    row.update(pim_area_mm2(system))
    for name, spec in BASELINES.items():
        res = roofline.simulate_cascade(cascade, spec)
        eager = eager_decode(cascade, spec, DISPATCH_OVERHEAD_S[name])
        for kind, lat_s, e_j in (("roofline", res.latency_s, res.energy_j),
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


def implied_baseline(cascade, spec, device: str, pim_latency_ms: float) -> dict:
    """What the paper's speedup band implies about its `device` baseline, given our PIM latency:
    the baseline's latency per token at both band ends, the per-kernel dispatch overhead at which
    the eager model takes that long, and the effective DRAM bandwidth (our traffic per token over
    that latency) a pure roofline would need. Explanatory only; no model parameter uses them."""
    kernels = kernel_latencies_s(cascade, spec)
    traffic = offchip_bytes_per_step(cascade, spec)
    out = {}
    for end, band in zip(("lo", "hi"), PAPER_SPEEDUP[device]):
        lat_ms = pim_latency_ms * band
        o = implied_overhead_s(kernels, lat_ms * 1e-3)
        out[f"{device}_band_latency_ms_{end}"] = lat_ms
        out[f"{device}_implied_overhead_us_{end}"] = None if o is None else o * 1e6
        out[f"{device}_implied_bandwidth_gbps_{end}"] = traffic / (lat_ms * 1e-3) / 1e9
    return out


NOCACHE_POINTS = 5


@functools.lru_cache(maxsize=2 * NOCACHE_POINTS)
def _prefill(model: str, seq_len: int):
    return lower(model, "prefill", seq_len=seq_len)


def nocache_roofline_ms(model: str, tokens: int, spec) -> float:
    """Mean roofline latency per token of a decode WITHOUT a KV cache (token t recomputes its
    whole t-token context, as a prefill of length t), t = 1..tokens, by the trapezoid rule over
    NOCACHE_POINTS evenly spaced lengths. A hypothesis for the paper's baselines, not a baseline
    of ours."""
    ts = sorted({max(1, round(1 + i * (tokens - 1) / (NOCACHE_POINTS - 1)))
                 for i in range(NOCACHE_POINTS)})
    lat = [roofline.simulate_cascade(_prefill(model, t), spec).latency_s * 1e3 for t in ts]
    if len(ts) == 1:
        return lat[0]
    area = sum((ts[i + 1] - ts[i]) * (lat[i] + lat[i + 1]) / 2 for i in range(len(ts) - 1))
    return area / (ts[-1] - ts[0])


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
    models = [r["model"] for r in rows]
    x = np.arange(len(models))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5))
    series = [(f"speedup_vs_{d}_{k}", f"{d.upper()} {k}") for d in ("gpu", "cpu")
              for k in ("roofline", "eager")]
    width = 0.8 / len(series)
    for i, (key, label) in enumerate(series):
        ax1.bar(x + (i - 1.5) * width, [r[key] for r in rows], width, label=label)
    for d, marker in (("gpu", "v"), ("cpu", "^")):
        ax1.scatter(x, [r[f"speedup_vs_{d}_nocache_roofline"] for r in rows], marker=marker,
                    color="k", zorder=3, label=f"{d.upper()} roofline, no KV cache (hypothesis)")
    for d, (lo, hi) in PAPER_SPEEDUP.items():
        ax1.axhspan(lo, hi, alpha=0.12, color="C0" if d == "gpu" else "C2",
                    label=f"paper band vs {d.upper()}")
    ax1.set_yscale("log")
    ax1.set_xticks(x, models, rotation=30, ha="right")
    ax1.set_ylabel("speedup per decode token (x, log scale)")
    ax1.set_title("PIM-GPT speedup over GPU (T4) / CPU baselines")
    ax1.legend(fontsize=7)
    bottom = np.zeros(len(rows))
    for key in BREAKDOWN:
        vals = np.array([r[key] for r in rows])
        ax2.bar(x, vals, 0.6, bottom=bottom, label=key.removesuffix("_ms").replace("_", " "))
        bottom += vals
    ax2.set_xticks(x, models, rotation=30, ha="right")
    ax2.set_ylabel("PIM-GPT latency per token (ms)")
    ax2.set_title(f"PIM-GPT latency breakdown ({rows[0]['tokens']}-token decode)")
    ax2.legend(fontsize=8)
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
    models, tokens = args.models.split(","), args.tokens
    rows = []
    for m in models:
        t0 = time.perf_counter()
        rows.append(reproduce(m, tokens, engine=args.engine))
        print(f"{m}: {rows[-1]['latency_ms_per_token']:.4f} ms/token "
              f"({time.perf_counter() - t0:.1f} s wall, {args.engine})", flush=True)
    write_outputs(rows, args.out_dir)


if __name__ == "__main__":
    main()
