"""FuseMax's evaluation on the array model: speedup and energy of FuseMax over FLAT and unfused,
attention only and end to end, geometric means over workloads × sequence lengths; plots.

Run: ``.venv/bin/python -m sim.attention_array.reproduce experiments/fusemax.yaml reports/fusemax``.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import yaml

from sim.attention_array.arch import FUSEMAX
from sim.attention_array.model import simulate_model
from workloads.errors import SpecError


def load_grid(path: str | Path) -> dict:
    with open(path) as fh:
        grid = yaml.safe_load(fh)
    for key in ("workloads", "seq_lens", "designs"):
        if not isinstance(grid, dict) or not grid.get(key):
            raise SpecError(f"{path}: needs a non-empty {key!r} list")
    return grid


def run_grid(grid: dict) -> list[dict]:
    rows = []
    for model in grid["workloads"]:
        for n in grid["seq_lens"]:
            res = {d: simulate_model(d, model, n, batch=grid.get("batch", 64))
                   for d in grid["designs"]}
            for d, r in res.items():
                rows.append({"model": model, "seq_len": n, "design": d, "cycles": r.cycles,
                             "e2e_cycles": r.end_to_end_cycles, "energy_pj": r.energy_pj,
                             "e2e_energy_pj": r.end_to_end_energy_pj, "util_2d": r.util_2d,
                             "util_1d": r.util_1d, "traffic_bytes": r.traffic_bytes,
                             "lower_bound_bytes": r.lower_bound_bytes})
    return rows


def summary(rows: list[dict], baseline: str, target: str = "fusemax") -> dict:
    """Geometric means of speedup (baseline cycles / target cycles) and energy (target / baseline)."""
    key = {(r["model"], r["seq_len"], r["design"]): r for r in rows}
    pts = [(k[0], k[1]) for k in key if k[2] == target]
    def gm(vals):
        return math.exp(sum(math.log(v) for v in vals) / len(vals))
    out = {}
    for tag, c, e in (("attention", "cycles", "energy_pj"), ("end_to_end", "e2e_cycles",
                                                             "e2e_energy_pj")):
        out[tag] = {
            "speedup": gm([key[p + (baseline,)][c] / key[p + (target,)][c] for p in pts]),
            "energy_ratio": gm([key[p + (target,)][e] / key[p + (baseline,)][e] for p in pts])}
    return out


def plots(rows: list[dict], grid: dict, outdir: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    outdir.mkdir(parents=True, exist_ok=True)
    key = {(r["model"], r["seq_len"], r["design"]): r for r in rows}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m in grid["workloads"]:
        for base in ("flat", "unfused"):
            ax.plot(grid["seq_lens"], [key[(m, n, base)]["cycles"] / key[(m, n, "fusemax")]["cycles"]
                                       for n in grid["seq_lens"]], marker="o",
                    ls="-" if base == "flat" else "--", label=f"{m} vs {base}")
    ax.set_xscale("log", base=2); ax.set_yscale("log")
    ax.set_xlabel("sequence length (tokens)"); ax.set_ylabel("attention speedup of FuseMax (×)")
    ax.set_title("FuseMax attention speedup vs sequence length"); ax.legend(fontsize=7)
    fig.tight_layout(); fig.savefig(outdir / "speedup_vs_seq_len.png", dpi=120); plt.close(fig)
    fig, axs = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, arr in zip(axs, ("util_2d", "util_1d")):
        for d in grid["designs"]:
            ax.plot(grid["seq_lens"], [key[("fusemax-bert", n, d)][arr] for n in grid["seq_lens"]],
                    marker="o", label=d)
        ax.set_xscale("log", base=2); ax.set_xlabel("sequence length (tokens)")
        ax.set_title(f"{arr.replace('util_', '').upper()} array utilization, BERT")
        ax.legend()
    axs[0].set_ylabel("utilization (fraction of peak)")
    fig.tight_layout(); fig.savefig(outdir / "utilization.png", dpi=120); plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    kibs = grid.get("buffer_kib_sweep", [1024, 4096, 16384])
    for d in grid["designs"]:
        ratios = []
        for kib in kibs:
            r = simulate_model(d, "fusemax-bert", 65536, arch=FUSEMAX.with_buffer(kib * 1024))
            ratios.append(r.traffic_bytes / r.lower_bound_bytes)
        ax.plot(kibs, ratios, marker="o", label=d)
    ax.set_xscale("log", base=2); ax.set_yscale("log")
    ax.set_xlabel("global buffer (KiB)"); ax.set_ylabel("off-chip traffic ÷ lower bound")
    ax.set_title("Traffic over the I/O lower bound, BERT, N = 64K"); ax.legend()
    fig.tight_layout(); fig.savefig(outdir / "traffic_vs_buffer.png", dpi=120); plt.close(fig)


def main(argv: list[str]) -> None:
    grid = load_grid(argv[0] if argv else "experiments/fusemax.yaml")
    outdir = Path(argv[1] if len(argv) > 1 else "reports/fusemax")
    rows = run_grid(grid)
    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / "results.yaml", "w") as fh:
        yaml.safe_dump({"rows": rows, "vs_flat": summary(rows, "flat"),
                        "vs_unfused": summary(rows, "unfused")}, fh, sort_keys=False)
    for base in ("flat", "unfused"):
        s = summary(rows, base)
        print(f"vs {base}: attention {s['attention']['speedup']:.2f}x, energy "
              f"{100 * s['attention']['energy_ratio']:.0f}%; end-to-end "
              f"{s['end_to_end']['speedup']:.2f}x, energy {100 * s['end_to_end']['energy_ratio']:.0f}%")
    plots(rows, grid, outdir)


if __name__ == "__main__":
    main(sys.argv[1:])
