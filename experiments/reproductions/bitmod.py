"""The BitMoD reproduction (Chen et al., HPCA 2025, Figs. 7-8 and the abstract's headline).

Per model × task × accelerator: cycles and energy by component, every accelerator's speedup and
energy relative to FP16, and the headline means (BitMoD-lossy 1.69x over ANT, 1.48x over OliVe).
Tasks (paper §VI; the authors' figure code, `sim/plot/speedup_plot.ipynb` of
github.com/abdelfattah-lab/BitMoD-HPCA-25): `discriminative` = prefill of 256 tokens on the
discriminative configuration (array and, for BitMoD, FP4 weights); `generative` = that same
prefill plus 20 decode steps at a 256-token context on the generative configuration
(`cycle_generate = cycle_g * 20 + cycle_discrim`). A decode step's cost is the same for all 20
steps (fixed context), so it is simulated once and weighted.

Every number goes through the `bitserial` family (`Family.result`: `mappers.bitserial.map`, then
`sim.bitserial.simulate`) — the code path of `einspace sweep`. Two entry points:

* `summarize(points, out_dir)` — the experiment `experiments/bitmod.yaml` (`reproduce: bitmod`):
  builds the task table from a finished sweep's points;
* `reproduction(mode)` / `run_task` / `run_phase` — the same grid in-process (`einspace bitserial
  --reproduce`), with the cycle breakdown (fill, stall, drain) the sweep's metrics do not carry.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from experiments.families import get_family
from experiments.space import Point
from sim.bitserial import MODES, energy
from sim.bitserial.presets import ACCELS, DECODE_TOKENS, MODELS, SEQ_LEN, parse_dram
from workloads.errors import SpecError

PAPER_HEADLINE = {"speedup_vs_ant": 1.69, "speedup_vs_olive": 1.48}  # BitMoD abstract / Sec. VI-B
# task -> the (configuration task, phase) runs it adds up (the figure code's cycle_generate)
TASK_RUNS = {"discriminative": (("discriminative", "prefill"),),
             "generative": (("discriminative", "prefill"), ("generative", "decode"))}
# The published per-model cycle counts behind Figs. 7-8, in MODELS order: one prefill of 256 tokens on
# the discriminative configuration, and one decode step at a 256-token context on the generative one.
# Source: the authors' figure code, github.com/abdelfattah-lab/BitMoD-HPCA-25 sim/plot/speedup_plot.ipynb
# (commit 48975fc; cycle_<accel>_d and cycle_<accel>_g; "con" = lossless, "agg" = lossy).
PUBLISHED_CYCLES = {
    "prefill": {
        "fp16": (669255680, 1399816192, 2878668800, 3156574208, 6676111360, 3969089536),
        "ant": (440975360, 847773696, 1734868992, 1949564928, 4076584960, 2266234880),
        "olive": (403718144, 779268096, 1575157760, 1768062976, 3648512000, 2008645632),
        "bitmod-lossy": (233070592, 515194880, 946937856, 1202921472, 2601461760, 1273233408),
        "bitmod-lossless": (336236544, 693780480, 1414209536, 1649680384, 3537397760, 1901133824),
    },
    "decode": {
        "fp16": (82153718, 165841248, 362970848, 413518608, 804330080, 469624976),
        "ant": (25779238, 51998112, 119342816, 129497936, 251907680, 132370576),
        "olive": (20018374, 41655712, 96691936, 97236816, 189155680, 105031744),
        "bitmod-lossy": (15857750, 31959712, 69662944, 79493200, 154552560, 90099088),
        "bitmod-lossless": (31220054, 62986912, 137681120, 156919888, 305157360, 178109840),
    },
}
PHASE_CONFIG = {"prefill": "discriminative", "decode": "generative"}  # the configuration each phase ran on
COLUMNS = ("phase", "name", "group", "layer", "weight", "cycles", "compute_cycles", "fill_cycles", "stall_cycles",
           "drain_cycles", "dram_bytes", "energy_compute_pj", "energy_sram_pj", "energy_dram_pj")
CYCLE_COLUMNS = ("cycles", "compute_cycles", "fill_cycles", "stall_cycles", "drain_cycles", "dram_bytes")
PAPER_CLOCK_HZ = 1e9  # 28 nm at 1 GHz (paper §VI-A; `AcceleratorSpec.clock_ghz` of every preset)


def workload(model: str, phase: str, seq_len: int = SEQ_LEN, layers: int | None = None) -> dict:
    """The sweep workload of the paper's setup: batch 1, prefill of `seq_len` tokens or one decode
    token at a `seq_len`-token context, the sweep's defaults otherwise."""
    from experiments.schema import Workloads

    return Workloads(models=[model], phases=[phase], seq_len=[seq_len], batch=[1], layers=layers).combos()[0]


def run_phase(model: str, accel_name: str, task: str, phase: str, mode: str, seq_len: int = SEQ_LEN,
              layers: int | None = None, dram: str = "bandwidth") -> pd.DataFrame:
    """One row per matrix Einsum of one `phase` on the paper's `accel_name` array for `task`, with
    `weight` (how often it counts in the generative task). `dram` switches the DRAM model (cycle mode)."""
    if mode not in MODES:
        raise SpecError(f"mode {mode!r} is not known; choose one of: {', '.join(MODES)}")
    parse_dram(dram)  # one-line SpecError for an unknown DRAM model
    params = {"accel": accel_name, "task": task, "mode": mode, "dram": dram}
    result = get_family("bitserial").result(Point("bitserial", "output-stationary",
                                                  workload(model, phase, seq_len, layers), params))
    rows = result.rows[result.rows["modeled"]]
    table = pd.DataFrame({"phase": phase, "name": rows["einsum"], "group": rows["group"], "layer": rows["layer"],
                          "weight": DECODE_TOKENS if phase == "decode" else 1,
                          **{c: rows[c] for c in CYCLE_COLUMNS[:-1]}, "dram_bytes": rows["offchip_bytes"]})
    for comp in energy.COMPONENTS:
        table[f"energy_{comp}_pj"] = rows[f"energy_{comp}_j"] * 1e12
    return table.reset_index(drop=True)[list(COLUMNS)]


def run_task(model: str, accel_name: str, task: str, mode: str = "paper", seq_len: int = SEQ_LEN,
             layers: int | None = None, dram: str = "bandwidth") -> pd.DataFrame:
    """All rows of `task` (discriminative: prefill; generative: that prefill + decode ×20 on the
    generative configuration, `TASK_RUNS`)."""
    if model not in MODELS:
        raise SpecError(f"model {model!r} is not in the BitMoD set; choose one of: {', '.join(MODELS)}")
    if accel_name not in ACCELS:
        raise SpecError(f"accelerator {accel_name!r} is not known; choose one of: {', '.join(ACCELS)}")
    return pd.concat([run_phase(model, accel_name, cfg, p, mode, seq_len, layers, dram) for cfg, p in TASK_RUNS[task]],
                     ignore_index=True)


def totals(rows: pd.DataFrame) -> dict:
    """Weighted totals of a `run_task` table: cycles and energy by component (pJ)."""
    w = rows["weight"]
    out = {c: float((rows[c] * w).sum()) for c in CYCLE_COLUMNS}
    for comp in energy.COMPONENTS:
        out[f"energy_{comp}_pj"] = float((rows[f"energy_{comp}_pj"] * w).sum())
    out["energy_total_pj"] = sum(out[f"energy_{c}_pj"] for c in energy.COMPONENTS)
    return out


def reproduction(mode: str = "paper", models=MODELS, layers: int | None = None) -> pd.DataFrame:
    """Totals for every model × task × accelerator (one row each)."""
    rows = []
    for model in models:
        for task in TASK_RUNS:
            for acc in ACCELS:
                rows.append({"model": model, "task": task, "accel": acc, "mode": mode,
                             **totals(run_task(model, acc, task, mode, layers=layers))})
    return pd.DataFrame(rows)


def headline(table: pd.DataFrame) -> dict:
    """BitMoD (lossy) speedups and energy reductions, arithmetic means over model × task."""
    piv = table.pivot_table(index=["model", "task"], columns="accel", values="cycles")
    en = table.pivot_table(index=["model", "task"], columns="accel", values="energy_total_pj")
    bm = "bitmod-lossy"
    out = {
        "speedup_vs_ant": float((piv["ant"] / piv[bm]).mean()),
        "speedup_vs_olive": float((piv["olive"] / piv[bm]).mean()),
        "speedup_vs_fp16": float((piv["fp16"] / piv[bm]).mean()),
    }
    for task in TASK_RUNS:
        sel = en.xs(task, level="task")
        out[f"energy_reduction_vs_fp16_{task}"] = float((sel["fp16"] / sel[bm]).mean())
    return out


def task_table(points: pd.DataFrame) -> pd.DataFrame:
    """The sweep's points (one per model × phase × accel × task × mode) as the reproduction's task
    table: per model × task × accel × mode, the task's runs (`TASK_RUNS`: configuration, phase)
    weighted (decode ×20), latency turned into cycles at the paper's 1 GHz, energy in pJ."""
    runs = [points[(points["task"] == cfg) & (points["phase"] == phase)].assign(task=task)
            for task, pairs in TASK_RUNS.items() for cfg, phase in pairs]
    pts = pd.concat(runs, ignore_index=True)
    pts = pts.assign(weight=pts["phase"].map({"prefill": 1, "decode": DECODE_TOKENS}))
    scaled = pd.DataFrame({"model": pts["model"], "task": pts["task"], "accel": pts["accel"], "mode": pts["mode"],
                           "cycles": pts["latency_s"] * PAPER_CLOCK_HZ * pts["weight"],
                           "dram_bytes": pts["offchip_bytes"] * pts["weight"]})
    for comp in energy.COMPONENTS:
        scaled[f"energy_{comp}_pj"] = pts[f"energy_{comp}_j"] * 1e12 * pts["weight"]
    table = scaled.groupby(["model", "task", "accel", "mode"], sort=False, as_index=False).sum()
    table["energy_total_pj"] = table[[f"energy_{c}_pj" for c in energy.COMPONENTS]].sum(axis=1)
    return table.sort_values(["mode", "model", "task", "accel"], key=paper_order, kind="stable").reset_index(drop=True)


def paper_order(column: pd.Series) -> pd.Series:
    """Sort key: models, tasks and accelerators in the paper's order (others after them)."""
    known = {"model": MODELS, "task": tuple(TASK_RUNS), "accel": ACCELS}.get(column.name)
    if known is None:
        return column
    return column.map(lambda v: known.index(v) if v in known else len(known))


def summarize(points: pd.DataFrame, out_dir: Path) -> dict[str, float]:
    """The reproduction of a finished `experiments/bitmod.yaml` sweep: per mode a CSV, a figure and
    the headline (keys `<mode>.<figure>`)."""
    table = task_table(points[points["family"] == "bitserial"])
    figures: dict[str, float] = {}
    for mode, sel in table.groupby("mode", sort=False):
        write(sel.reset_index(drop=True), Path(out_dir), mode)
        figures.update({f"{mode}.{k}": v for k, v in headline(sel).items()})
    return figures


def write(table: pd.DataFrame, out_dir: Path, mode: str) -> None:
    """`bitmod_<mode>.csv` and `.png` under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / f"bitmod_{mode}.csv", index=False, float_format="%.6g")
    figure(table, out_dir / f"bitmod_{mode}.png")


def figure(table: pd.DataFrame, path: Path) -> None:
    """Speedup (cycles of FP16 / cycles of X) and normalized energy per model and task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 7), sharex="col")
    accels = [a for a in table["accel"].unique() if a != "fp16"]
    for col, task in enumerate(TASK_RUNS):
        sel = table[table["task"] == task]
        cyc = sel.pivot_table(index="model", columns="accel", values="cycles")
        en = sel.pivot_table(index="model", columns="accel", values="energy_total_pj")
        (cyc["fp16"].values[:, None] / cyc[accels]).plot.bar(ax=axes[0, col], rot=0, legend=False)
        (en[accels] / en["fp16"].values[:, None]).plot.bar(ax=axes[1, col], rot=30, legend=False)
        axes[0, col].set_title(f"{task}: speedup over FP16")
        axes[0, col].set_ylabel("speedup (×)")
        axes[1, col].set_title(f"{task}: energy normalized to FP16")
        axes[1, col].set_ylabel("energy (FP16 = 1)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(accels), frameon=False)
    fig.suptitle(f"BitMoD reproduction ({table['mode'].iloc[0]} mode), batch 1, 256-token context")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fidelity(mode: str = "paper", models=MODELS) -> pd.DataFrame:
    """Per model × accelerator × phase: this model's cycles, the published ones (`PUBLISHED_CYCLES`)
    and their ratio - 1 (`deviation`)."""
    rows = []
    for phase, by_accel in PUBLISHED_CYCLES.items():
        for acc, published in by_accel.items():
            for model in models:
                got = float(run_phase(model, acc, PHASE_CONFIG[phase], phase, mode)["cycles"].sum())
                want = published[MODELS.index(model)]
                rows.append({"model": model, "accel": acc, "phase": phase, "mode": mode, "cycles": got,
                             "published_cycles": want, "deviation": got / want - 1})
    return pd.DataFrame(rows)


def reproduce(mode: str, out_dir: Path) -> dict:
    """Run all 6 models × 2 tasks × 5 accelerators in-process; write CSV + PNG and the per-model
    comparison with the published cycle counts (`bitmod_<mode>_vs_published.csv`); return the headline."""
    table = reproduction(mode)
    write(table, out_dir, mode)
    fidelity(mode).to_csv(out_dir / f"bitmod_{mode}_vs_published.csv", index=False, float_format="%.6g")
    return headline(table)
