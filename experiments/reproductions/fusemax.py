"""FuseMax's evaluation: speedup and energy of FuseMax over its baselines, attention only and end
to end, arithmetic means over workloads × sequence lengths (as the artifact's figure notebook
averages; geometric means are reported beside them); CSV and plots.

``mode="paper"`` uses the artifact's accounting (``sim.attention_array.paper``; unfused, FLAT and
FuseMax), ``mode="cycle"`` the cycle-level model; each point is one layer through the attention
family's code path (``fusemax_layers``: ``mappers.attention.map`` then ``sim.attention_array``).
Run: ``einspace attention --reproduce reports/fusemax --mode paper`` or
``.venv/bin/python -m experiments.reproductions.fusemax experiments/fusemax.yaml reports/fusemax [paper|cycle]``.
"""
from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import yaml

from experiments.reproductions.fusemax_layers import layer_for, paper_model, simulate_model
from mappers.attention import AttentionLayer, search_design, traffic_bound
from sim.attention_array.arch import FUSEMAX
from sim.attention_array.dataflows import PAPER_DESIGNS
from workloads.errors import SpecError


def load_grid(path: str | Path) -> dict:
    with open(path) as fh:
        grid = yaml.safe_load(fh)
    for key in ("workloads", "seq_lens", "designs"):
        if not isinstance(grid, dict) or not grid.get(key):
            raise SpecError(f"{path}: needs a non-empty {key!r} list")
    return grid


MODES = ("paper", "cycle")


def designs_for(grid: dict, mode: str) -> list[str]:
    if mode not in MODES:
        raise SpecError(f"unknown mode {mode!r}; choose paper or cycle")
    return [d for d in grid["designs"] if mode == "cycle" or d in PAPER_DESIGNS]


def run_grid(grid: dict, mode: str = "cycle") -> list[dict]:
    rows = []
    sim = paper_model if mode == "paper" else simulate_model
    for model in grid["workloads"]:
        for n in grid["seq_lens"]:
            res = {d: sim(d, model, n, batch=grid.get("batch", 64))
                   for d in designs_for(grid, mode)}
            for d, r in res.items():
                rows.append({"model": model, "seq_len": n, "design": d, "cycles": r.cycles,
                             "e2e_cycles": r.end_to_end_cycles, "energy_pj": r.energy_pj,
                             "e2e_energy_pj": r.end_to_end_energy_pj, "util_2d": r.util_2d,
                             "util_1d": r.util_1d, "traffic_bytes": r.traffic_bytes,
                             "lower_bound_bytes": getattr(r, "lower_bound_bytes", None)
                             or traffic_bound(layer_for(model, n, grid.get("batch", 64)),
                                              FUSEMAX.buffer_bytes).lower_bound_bytes})
    return rows


def summary(rows: list[dict], baseline: str, target: str = "fusemax") -> dict:
    """Arithmetic means (the paper's averaging) of speedup (baseline cycles / target cycles) and
    energy (target / baseline); geometric means under ``*_geomean``."""
    key = {(r["model"], r["seq_len"], r["design"]): r for r in rows}
    pts = [(k[0], k[1]) for k in key if k[2] == target]
    def gm(vals):
        return math.exp(sum(math.log(v) for v in vals) / len(vals))

    def am(vals):
        return sum(vals) / len(vals)
    out = {}
    for tag, c, e in (("attention", "cycles", "energy_pj"), ("end_to_end", "e2e_cycles",
                                                             "e2e_energy_pj")):
        sp = [key[p + (baseline,)][c] / key[p + (target,)][c] for p in pts]
        en = [key[p + (target,)][e] / key[p + (baseline,)][e] for p in pts]
        out[tag] = {"speedup": am(sp), "energy_ratio": am(en),
                    "speedup_geomean": gm(sp), "energy_ratio_geomean": gm(en)}
    return out


def plots(rows: list[dict], grid: dict, outdir: Path, mode: str = "cycle") -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    outdir.mkdir(parents=True, exist_ok=True)
    key = {(r["model"], r["seq_len"], r["design"]): r for r in rows}
    designs = designs_for(grid, mode)
    first = grid["workloads"][0]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m in grid["workloads"]:
        for base in [d for d in ("flat", "unfused") if d in designs]:
            ax.plot(grid["seq_lens"], [key[(m, n, base)]["cycles"] / key[(m, n, "fusemax")]["cycles"]
                                       for n in grid["seq_lens"]], marker="o",
                    ls="-" if base == "flat" else "--", label=f"{m} vs {base}")
    ax.set_xscale("log", base=2); ax.set_yscale("log")
    ax.set_xlabel("sequence length (tokens)"); ax.set_ylabel("attention speedup of FuseMax (×)")
    ax.set_title(f"FuseMax attention speedup vs sequence length ({mode} mode)"); ax.legend(fontsize=7)
    fig.tight_layout(); fig.savefig(outdir / "speedup_vs_seq_len.png", dpi=120); plt.close(fig)
    fig, axs = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, arr in zip(axs, ("util_2d", "util_1d")):
        for d in designs:
            ax.plot(grid["seq_lens"], [key[(first, n, d)][arr] for n in grid["seq_lens"]],
                    marker="o", label=d)
        ax.set_xscale("log", base=2); ax.set_xlabel("sequence length (tokens)")
        ax.set_title(f"{arr.replace('util_', '').upper()} array utilization, {first} ({mode})")
        ax.legend()
    axs[0].set_ylabel("utilization (fraction of peak)")
    fig.tight_layout(); fig.savefig(outdir / "utilization.png", dpi=120); plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    kibs = grid.get("buffer_kib_sweep", [1024, 4096, 16384])
    n_sweep = grid.get("buffer_sweep_seq_len", 65536)
    for d in grid["designs"]:
        ratios = []
        for kib in kibs:
            r = simulate_model(d, first, n_sweep, batch=grid.get("batch", 64),
                               arch=FUSEMAX.with_buffer(kib * 1024))
            ratios.append(r.traffic_bytes / r.lower_bound_bytes)
        ax.plot(kibs, ratios, marker="o", label=d)
    ax.set_xscale("log", base=2); ax.set_yscale("log")
    ax.set_xlabel("global buffer (KiB)"); ax.set_ylabel("off-chip traffic ÷ lower bound")
    ax.set_title(f"Traffic over the I/O lower bound (cycle-model mappings), {first}, N = {n_sweep}")
    ax.legend()
    fig.tight_layout(); fig.savefig(outdir / "traffic_vs_buffer.png", dpi=120); plt.close(fig)
    fa2_bound_plot(outdir / "fa2_bound_ratio_vs_buffer.png", plt)


FA2_BUFFERS_KIB = (64, 256, 1024, 4096, 16384)
FA2_SEQ_LENS = (1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20)


def fa2_bound_table(head_dim: int) -> dict[tuple[int, int], float]:
    """Traffic ÷ lower bound of FlashAttention-2's searched tiling (one head, fp16), keyed by
    (buffer KiB, N)."""
    out = {}
    for kib in FA2_BUFFERS_KIB:
        for n in FA2_SEQ_LENS:
            layer = AttentionLayer(n_q=n, n_kv=n, head_dim=head_dim)
            out[(kib, n)] = search_design("flashattention2", layer, kib * 1024).ratio_to_lower_bound
    return out


def fa2_bound_plot(path: Path, plt) -> None:
    fig, axs = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, d in zip(axs, (64, 128)):
        table = fa2_bound_table(d)
        for n in FA2_SEQ_LENS:
            ax.plot(FA2_BUFFERS_KIB, [table[(k, n)] for k in FA2_BUFFERS_KIB], marker="o",
                    label=f"N = {n // 1024}K")
        ax.axhline(1.2, color="grey", ls=":", lw=1)
        ax.set_xscale("log", base=2); ax.set_xlabel("on-chip buffer (KiB)")
        ax.set_title(f"FlashAttention-2 searched tiling, d = {d}")
        ax.legend(fontsize=7)
    axs[0].set_ylabel("off-chip traffic ÷ lower bound")
    fig.tight_layout(); fig.savefig(path, dpi=120); plt.close(fig)


def reproduce(grid: dict, outdir: str | Path, mode: str = "paper", with_plots: bool = True
              ) -> dict:
    """Run the grid in ``mode``; write ``results_<mode>.csv``, ``summary_<mode>.yaml`` and plots
    (``*_<mode>.png``) under ``outdir``; return the summaries."""
    outdir = Path(outdir)
    rows = run_grid(grid, mode)
    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / f"results_{mode}.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    bases = [b for b in ("flat", "unfused") if b in designs_for(grid, mode)]
    summ = {f"vs_{b}": summary(rows, b) for b in bases}
    with open(outdir / f"summary_{mode}.yaml", "w") as fh:
        yaml.safe_dump({"mode": mode, **summ}, fh, sort_keys=False)
    if with_plots:
        plot_dir = outdir / f"plots_{mode}"
        plots(rows, grid, plot_dir, mode)
    return summ


def format_summary(summ: dict) -> list[str]:
    out = []
    for name, s in summ.items():
        a, e = s["attention"], s["end_to_end"]
        out.append(f"{name}: attention {a['speedup']:.2f}x, energy {100 * a['energy_ratio']:.0f}%; "
                   f"end-to-end {e['speedup']:.2f}x, energy {100 * e['energy_ratio']:.0f}% "
                   f"(arithmetic means; geometric {a['speedup_geomean']:.2f}x / "
                   f"{e['speedup_geomean']:.2f}x)")
    return out


def main(argv: list[str]) -> None:
    grid = load_grid(argv[0] if argv else "experiments/fusemax.yaml")
    outdir = Path(argv[1] if len(argv) > 1 else "reports/fusemax")
    for mode in (argv[2:] or list(MODES)):
        for line in format_summary(reproduce(grid, outdir, mode)):
            print(f"[{mode}] {line}")


if __name__ == "__main__":
    main(sys.argv[1:])
