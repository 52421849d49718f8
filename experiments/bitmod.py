"""The BitMoD reproduction (Chen et al., HPCA 2025, Figs. 7-8): per-model speedup and energy of
every accelerator over FP16, in the paper's accounting or the cycle-level model, written as a
CSV and a figure. Grid: `experiments/bitmod.yaml`."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from mappers.bitserial.evaluate import headline, reproduction  # noqa: E402

PAPER_HEADLINE = {"speedup_vs_ant": 1.69, "speedup_vs_olive": 1.48}  # BitMoD abstract / Sec. VI-B


def figure(table: pd.DataFrame, path: Path) -> None:
    """Speedup (cycles of FP16 / cycles of X) and normalized energy per model and task."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 7), sharex="col")
    accels = [a for a in table["accel"].unique() if a != "fp16"]
    for col, task in enumerate(("discriminative", "generative")):
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
    """Run all 6 models × 2 tasks × 5 accelerators; write CSV + PNG; return the headline."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = reproduction(mode)
    table.to_csv(out_dir / f"bitmod_{mode}.csv", index=False, float_format="%.6g")
    figure(table, out_dir / f"bitmod_{mode}.png")
    return headline(table)
