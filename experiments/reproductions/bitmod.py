"""The BitMoD reproduction (Chen et al., HPCA 2025, Figs. 7-8 and the abstract's headline).

Per model × task × accelerator: cycles and energy by component, every accelerator's speedup and
energy relative to FP16, and the headline means (BitMoD-lossy 1.69x over ANT, 1.48x over OliVe).
Tasks (paper §VI): `discriminative` = prefill of 256 tokens on the discriminative array;
`generative` = that prefill plus 20 decode steps at a 256-token context on the generative array.
A decode step's cost is the same for all 20 steps (fixed context), so it is simulated once and
weighted.

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
TASK_PHASES = {"discriminative": ("prefill",), "generative": ("prefill", "decode")}
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
    """All rows of `task` (discriminative: prefill; generative: prefill + decode ×20)."""
    if model not in MODELS:
        raise SpecError(f"model {model!r} is not in the BitMoD set; choose one of: {', '.join(MODELS)}")
    if accel_name not in ACCELS:
        raise SpecError(f"accelerator {accel_name!r} is not known; choose one of: {', '.join(ACCELS)}")
    return pd.concat([run_phase(model, accel_name, task, p, mode, seq_len, layers, dram) for p in TASK_PHASES[task]],
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
        for task in TASK_PHASES:
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
    for task in TASK_PHASES:
        sel = en.xs(task, level="task")
        out[f"energy_reduction_vs_fp16_{task}"] = float((sel["fp16"] / sel[bm]).mean())
    return out


def task_table(points: pd.DataFrame) -> pd.DataFrame:
    """The sweep's points (one per model × phase × accel × task × mode) as the reproduction's task
    table: per model × task × accel × mode, the task's phases weighted (decode ×20), latency
    turned into cycles at the paper's 1 GHz, energy in pJ."""
    pts = points.assign(weight=points["phase"].map({"prefill": 1, "decode": DECODE_TOKENS}))
    pts = pts[[phase in TASK_PHASES[task] for phase, task in zip(pts["phase"], pts["task"])]]
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
    known = {"model": MODELS, "task": tuple(TASK_PHASES), "accel": ACCELS}.get(column.name)
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
    for col, task in enumerate(TASK_PHASES):
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


def reproduce(mode: str, out_dir: Path) -> dict:
    """Run all 6 models × 2 tasks × 5 accelerators in-process; write CSV + PNG; return the headline."""
    table = reproduction(mode)
    write(table, out_dir, mode)
    return headline(table)
