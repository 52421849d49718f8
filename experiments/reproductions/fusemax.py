"""FuseMax's evaluation (Nayak et al., MICRO 2024, Sec. 7): speedup and energy of FuseMax over its
baselines (FLAT, unfused), attention only and end to end, arithmetic means over workloads ×
sequence lengths (as the artifact's figure notebook averages; geometric means beside them); CSV,
summary and plots per mode.

``mode="paper"`` uses the artifact's accounting (``sim.attention_array.paper``; unfused, FLAT and
FuseMax on FuseMax's arrays), ``mode="cycle"`` the cycle-level model (each design on its iso-area
preset, ``arch.PRESETS``); each point is one Transformer layer (batch 64, bidirectional prefill)
through the attention family's code path (``mappers.attention.map`` then ``sim.attention_array``).
Two entry points give the same tables:

* ``summarize(points, out_dir)`` — the experiment ``experiments/fusemax.yaml`` (``reproduce:
  fusemax``, run by ``einspace sweep``). The attention-only figures are sums over each point's
  per-Einsum rows of cascade group ``attention`` (the fused attention group; end to end = all the
  point's rows, i.e. the layer), which ``summarize`` reads from the run's store: the run folder is
  ``out_dir.parent`` (``out_dir`` is always ``RUN/reproduction``), whose experiment text also
  gives the grid's order (models, sequence lengths, designs).
* ``reproduce(grid, outdir, mode)`` — the same grid in process (``einspace attention --reproduce
  DIR --mode paper|cycle``; ``fusemax_layers``), the grid read from the experiment by
  ``load_grid`` / ``grid_of``.

Files per mode under the output folder: ``results_<mode>.csv`` (one row per model × N × design),
``summary_<mode>.yaml``, ``plots_<mode>/`` (speedup vs N, utilization, traffic ÷ I/O lower bound
vs buffer, FlashAttention-2's searched tiling vs the bound). Two figures are computed beside the
sweep's points, in both entry points: the traffic-vs-buffer plot (``traffic_ratios``: every design
on FuseMax's arrays at 1, 4, 16 MiB, the first workload at N = 64K or the largest N of a smaller
grid, through ``simulate_model`` — the family's map and simulate; not grid points, because a grid
crosses every architecture with every workload and FLAT cannot tile some of them at 1 MiB) and
the FlashAttention-2 table (``fa2_bound_table``: the mapper's search alone, no simulation).
Run: ``einspace sweep experiments/fusemax.yaml``, ``einspace attention --reproduce reports/fusemax
--mode paper`` or ``.venv/bin/python -m experiments.reproductions.fusemax experiments/fusemax.yaml
reports/fusemax [paper|cycle]``.
"""
from __future__ import annotations

import csv
import math
import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from experiments.families.attention import AttentionParams
from experiments.reproductions.fusemax_layers import layer_for, paper_model, simulate_model
from mappers.attention import AttentionLayer, search_design, traffic_bound
from sim.attention_array.arch import FUSEMAX, PRESETS, ArraySpec
from sim.attention_array.dataflows import PAPER_DESIGNS
from sim.attention_array.simulate import ATTENTION_GROUP
from workloads.errors import SpecError

MODES = ("paper", "cycle")
BASELINES = ("flat", "unfused")
TARGET = "fusemax"
BUFFER_SWEEP_KIB = (1024, 4096, 16384)  # the traffic-vs-buffer plot's buffers, on FuseMax's arrays
BUFFER_SWEEP_SEQ_LEN = 65536  # and its N (the largest N of a grid without it)
COLUMNS = ("model", "seq_len", "design", "cycles", "e2e_cycles", "energy_pj", "e2e_energy_pj", "util_2d",
           "util_1d", "traffic_bytes", "lower_bound_bytes")


# --- the grid (an experiment file's workloads and designs) ---------------------------------------

def load_grid(path: str | Path) -> dict:
    """The in-process grid of an experiment file (``experiments/fusemax.yaml``): see ``grid_of``."""
    from experiments.schema import load

    return grid_of(load(path)[0], str(path))


def grid_of(exp, source: str = "<experiment>") -> dict:
    """The grid of a FuseMax experiment: workloads (models), seq_lens, batch, designs (file order)
    and the buffer sweep of the traffic plot (``BUFFER_SWEEP_KIB`` at ``sweep_seq_len``)."""
    from experiments.space import all_points

    w = exp.workloads
    if w.phases != ["prefill"] or len(w.batch) != 1:
        raise SpecError(f"{source}: the FuseMax reproduction needs phases [prefill] and one batch")
    designs: list[str] = []
    for point in all_points(exp):
        design = AttentionParams(**point.params).design or point.mapping
        designs += [] if design in designs else [design]
    return {"workloads": list(w.models), "seq_lens": list(w.seq_len), "batch": w.batch[0], "designs": designs,
            "buffer_kib_sweep": list(BUFFER_SWEEP_KIB), "buffer_sweep_seq_len": sweep_seq_len(w.seq_len)}


def sweep_seq_len(seq_lens) -> int:
    return BUFFER_SWEEP_SEQ_LEN if BUFFER_SWEEP_SEQ_LEN in seq_lens else max(seq_lens)


def arch_key(spec: ArraySpec) -> tuple:
    """What a spec simulates with (its fields but the name and source)."""
    return (spec.rows_2d, spec.cols_2d, spec.width_1d, spec.buffer_bytes, spec.buffer_bytes_per_cycle,
            spec.offchip_bytes_per_s, spec.clock_hz, spec.bytes_per_element)


def reference_arch(design: str, mode: str) -> ArraySpec:
    """The architecture of the evaluation's points: FuseMax's arrays in paper mode (the artifact's
    accounting), the design's iso-area preset in cycle mode."""
    return FUSEMAX if mode == "paper" else PRESETS.get(design, FUSEMAX)


def designs_for(grid: dict, mode: str) -> list[str]:
    if mode not in MODES:
        raise SpecError(f"unknown mode {mode!r}; choose paper or cycle")
    return [d for d in grid["designs"] if mode == "cycle" or d in PAPER_DESIGNS]


def bases_for(grid: dict, mode: str) -> list[str]:
    return [b for b in BASELINES if b in designs_for(grid, mode)]


@lru_cache(maxsize=256)
def lower_bound_bytes(model: str, seq_len: int, batch: int, buffer_bytes: int) -> float:
    """The I/O lower bound of the model's attention layer (``mappers.attention.traffic_bound``)."""
    return traffic_bound(layer_for(model, seq_len, batch), buffer_bytes).lower_bound_bytes


# --- in process ----------------------------------------------------------------------------------

def run_grid(grid: dict, mode: str = "cycle") -> list[dict]:
    """One row per model × N × design (``COLUMNS``), each layer simulated in process."""
    rows = []
    sim = paper_model if mode == "paper" else simulate_model
    batch = grid.get("batch", 64)
    for model in grid["workloads"]:
        for n in grid["seq_lens"]:
            for d in designs_for(grid, mode):
                r = sim(d, model, n, batch=batch)
                bound = getattr(r, "lower_bound_bytes", None) or lower_bound_bytes(model, n, batch, FUSEMAX.buffer_bytes)
                rows.append({"model": model, "seq_len": n, "design": d, "cycles": r.cycles,
                             "e2e_cycles": r.end_to_end_cycles, "energy_pj": r.energy_pj,
                             "e2e_energy_pj": r.end_to_end_energy_pj, "util_2d": r.util_2d, "util_1d": r.util_1d,
                             "traffic_bytes": r.traffic_bytes, "lower_bound_bytes": bound})
    return rows


def traffic_ratios(grid: dict) -> dict[tuple[str, int], float]:
    """Off-chip traffic ÷ lower bound of the cycle model's mapping of every design on FuseMax's
    arrays with each buffer of the sweep, (design, KiB) -> ratio, for the first workload at the
    sweep's N; in process (``simulate_model``: the family's map and simulate), in both entry points
    (a grid would cross the buffers with every workload, some of which FLAT cannot tile)."""
    first, n = grid["workloads"][0], grid.get("buffer_sweep_seq_len", BUFFER_SWEEP_SEQ_LEN)
    out = {}
    for d in grid["designs"]:
        for kib in grid.get("buffer_kib_sweep", BUFFER_SWEEP_KIB):
            r = simulate_model(d, first, n, batch=grid.get("batch", 64), arch=FUSEMAX.with_buffer(kib * 1024))
            out[(d, kib)] = r.traffic_bytes / r.lower_bound_bytes
    return out


def reproduce(grid: dict, outdir: str | Path, mode: str = "paper", with_plots: bool = True) -> dict:
    """Run the grid in ``mode`` in process; write ``results_<mode>.csv``, ``summary_<mode>.yaml``
    and ``plots_<mode>/`` under ``outdir``; return the summaries (``vs_<baseline>``)."""
    rows = run_grid(grid, mode)
    return write_mode(rows, grid, Path(outdir), mode, traffic_ratios(grid) if with_plots else None)


# --- from a sweep's points -----------------------------------------------------------------------

def _params(point: pd.Series) -> AttentionParams:
    """The stored point's parameters (NaN: a parameter other architectures of the file set)."""
    values = {k: point[k] for k in AttentionParams.model_fields if k in point.index}
    return AttentionParams(**{k: v for k, v in values.items() if not (isinstance(v, float) and math.isnan(v))})


def index_points(points: pd.DataFrame) -> dict[tuple, str]:
    """(mode, design, model, seq_len, batch, arch_key) -> point id of every attention point."""
    out = {}
    for _, point in points[points["family"] == "attention"].iterrows():
        params = _params(point)
        key = (params.mode, params.design or point["mapping"], point["model"], int(point["seq_len"]),
               int(point["batch"]), arch_key(params.spec()))
        out[key] = point["point_id"]
    return out


class SweptPoints:
    """A finished run's attention points, looked up by (mode, design, model, N, architecture)."""

    def __init__(self, points: pd.DataFrame, einsums: pd.DataFrame, batch: int):
        self.ids = index_points(points)
        self.metrics = points.set_index("point_id")
        self.rows = dict(iter(einsums.groupby("point_id", sort=False)))
        self.batch = batch

    def find(self, mode: str, design: str, model: str, n: int, arch: ArraySpec) -> str:
        key = (mode, design, model, n, self.batch, arch_key(arch))
        if key not in self.ids:
            raise SpecError(f"reproduction fusemax: no finished point for {mode} mode, {design}, {model}, N = {n}, "
                            f"batch {self.batch}, buffer {arch.buffer_bytes // 1024} KiB "
                            f"({arch.buffer_bytes_per_cycle} B/cycle)")
        return self.ids[key]

    def row(self, mode: str, design: str, model: str, n: int) -> dict:
        """One results row: attention = the point's rows of group ``attention``; end to end = all rows."""
        arch = reference_arch(design, mode)
        pid = self.find(mode, design, model, n, arch)
        rows, metrics = self.rows[pid], self.metrics.loc[pid]
        att = rows[rows["group"] == ATTENTION_GROUP]
        return {"model": model, "seq_len": n, "design": design, "cycles": float(att["cycles"].sum()),
                "e2e_cycles": float(rows["cycles"].sum()), "energy_pj": float(att["energy_j"].sum()) * 1e12,
                "e2e_energy_pj": float(rows["energy_j"].sum()) * 1e12, "util_2d": float(metrics["util_2d"]),
                "util_1d": float(metrics["util_1d"]), "traffic_bytes": float(att["offchip_bytes"].sum()),
                "lower_bound_bytes": lower_bound_bytes(model, n, self.batch, arch.buffer_bytes)}


def summarize(points: pd.DataFrame, out_dir: Path) -> dict[str, float]:
    """The reproduction of a finished ``experiments/fusemax.yaml`` sweep: per mode the files of
    ``reproduce`` under ``out_dir`` and the summaries as ``<mode>.vs_<baseline>.<attention|
    end_to_end>.<speedup|energy_ratio>[_geomean]``. Reads the per-Einsum rows and the experiment
    text from the run's store, ``out_dir.parent``."""
    from experiments.schema import parse
    from experiments.store import RunStore

    store = RunStore(Path(out_dir).parent)
    grid = grid_of(parse(yaml.safe_load(store.experiment_text()), "the run's experiment"))
    swept = SweptPoints(points, store.einsums(), grid["batch"])
    modes = [m for m in MODES if any(_params(p).mode == m for _, p in points.iterrows() if p["family"] == "attention")]
    traffic = traffic_ratios(grid)
    figures: dict[str, float] = {}
    for mode in modes:
        rows = [swept.row(mode, d, model, n) for model in grid["workloads"] for n in grid["seq_lens"]
                for d in designs_for(grid, mode)]
        figures.update(flat_figures(mode, write_mode(rows, grid, Path(out_dir), mode, traffic)))
    return figures


def flat_figures(mode: str, summ: dict) -> dict[str, float]:
    """``{vs_flat: {attention: {speedup: …}}}`` as ``{"<mode>.vs_flat.attention.speedup": …}``."""
    return {f"{mode}.{base}.{tag}.{stat}": float(v) for base, tags in summ.items()
            for tag, stats in tags.items() for stat, v in stats.items()}


# --- tables and plots ----------------------------------------------------------------------------

def summary(rows: list[dict], baseline: str, target: str = TARGET) -> dict:
    """Arithmetic means (the paper's averaging) of speedup (baseline cycles / target cycles) and
    energy (target / baseline); geometric means under ``*_geomean``."""
    key = {(r["model"], r["seq_len"], r["design"]): r for r in rows}
    pts = [(k[0], k[1]) for k in key if k[2] == target]

    def gm(vals):
        return math.exp(sum(math.log(v) for v in vals) / len(vals))

    def am(vals):
        return sum(vals) / len(vals)
    out = {}
    for tag, c, e in (("attention", "cycles", "energy_pj"), ("end_to_end", "e2e_cycles", "e2e_energy_pj")):
        sp = [key[p + (baseline,)][c] / key[p + (target,)][c] for p in pts]
        en = [key[p + (target,)][e] / key[p + (baseline,)][e] for p in pts]
        out[tag] = {"speedup": am(sp), "energy_ratio": am(en), "speedup_geomean": gm(sp), "energy_ratio_geomean": gm(en)}
    return out


def write_mode(rows: list[dict], grid: dict, outdir: Path, mode: str,
               traffic: dict[tuple[str, int], float] | None) -> dict:
    """``results_<mode>.csv``, ``summary_<mode>.yaml`` and (with ``traffic``) ``plots_<mode>/``;
    returns the summaries."""
    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / f"results_{mode}.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    summ = {f"vs_{b}": summary(rows, b) for b in bases_for(grid, mode)}
    with open(outdir / f"summary_{mode}.yaml", "w") as fh:
        yaml.safe_dump({"mode": mode, **summ}, fh, sort_keys=False)
    if traffic is not None:
        plots(rows, grid, outdir / f"plots_{mode}", mode, traffic)
    return summ


def plots(rows: list[dict], grid: dict, outdir: Path, mode: str, traffic: dict[tuple[str, int], float]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    outdir.mkdir(parents=True, exist_ok=True)
    key = {(r["model"], r["seq_len"], r["design"]): r for r in rows}
    speedup_plot(key, grid, mode, plt, outdir / "speedup_vs_seq_len.png")
    utilization_plot(key, grid, mode, plt, outdir / "utilization.png")
    traffic_plot(traffic, grid, plt, outdir / "traffic_vs_buffer.png")
    fa2_bound_plot(outdir / "fa2_bound_ratio_vs_buffer.png", plt)


def speedup_plot(key: dict, grid: dict, mode: str, plt, path: Path) -> None:
    designs, seq_lens = designs_for(grid, mode), grid["seq_lens"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m in grid["workloads"]:
        for base in [d for d in BASELINES if d in designs]:
            ax.plot(seq_lens, [key[(m, n, base)]["cycles"] / key[(m, n, TARGET)]["cycles"] for n in seq_lens],
                    marker="o", ls="-" if base == "flat" else "--", label=f"{m} vs {base}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length (tokens)")
    ax.set_ylabel("attention speedup of FuseMax (×)")
    ax.set_title(f"FuseMax attention speedup vs sequence length ({mode} mode)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def utilization_plot(key: dict, grid: dict, mode: str, plt, path: Path) -> None:
    first, seq_lens = grid["workloads"][0], grid["seq_lens"]
    fig, axs = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, arr in zip(axs, ("util_2d", "util_1d")):
        for d in designs_for(grid, mode):
            ax.plot(seq_lens, [key[(first, n, d)][arr] for n in seq_lens], marker="o", label=d)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("sequence length (tokens)")
        ax.set_title(f"{arr.replace('util_', '').upper()} array utilization, {first} ({mode})")
        ax.legend()
    axs[0].set_ylabel("utilization (fraction of peak)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def traffic_plot(traffic: dict[tuple[str, int], float], grid: dict, plt, path: Path) -> None:
    first, n_sweep = grid["workloads"][0], grid.get("buffer_sweep_seq_len", BUFFER_SWEEP_SEQ_LEN)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for d in grid["designs"]:
        kibs = sorted(k for dd, k in traffic if dd == d)
        ax.plot(kibs, [traffic[(d, k)] for k in kibs], marker="o", label=d)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("global buffer (KiB)")
    ax.set_ylabel("off-chip traffic ÷ lower bound")
    ax.set_title(f"Traffic over the I/O lower bound (cycle-model mappings), {first}, N = {n_sweep}", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


FA2_BUFFERS_KIB = (64, 256, 1024, 4096, 16384)
FA2_SEQ_LENS = (1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20)


@lru_cache(maxsize=4)
def fa2_bound_table(head_dim: int) -> dict[tuple[int, int], float]:
    """Traffic ÷ lower bound of FlashAttention-2's searched tiling (one head, fp16), keyed by
    (buffer KiB, N): the mapper's search alone, no simulation."""
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
            ax.plot(FA2_BUFFERS_KIB, [table[(k, n)] for k in FA2_BUFFERS_KIB], marker="o", label=f"N = {n // 1024}K")
        ax.axhline(1.2, color="grey", ls=":", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("on-chip buffer (KiB)")
        ax.set_title(f"FlashAttention-2 searched tiling, d = {d}")
        ax.legend(fontsize=7)
    axs[0].set_ylabel("off-chip traffic ÷ lower bound")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
