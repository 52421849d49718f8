"""Paper reproductions as experiments: an experiment YAML with `reproduce: NAME` is swept like any
other (`einspace sweep experiments/NAME.yaml`), then `summarize(points, out_dir)` of the module
registered here turns its results table into the paper's figures.

A reproduction module exposes

    summarize(points: pandas.DataFrame, out_dir: pathlib.Path) -> dict[str, float]

where `points` is the run's results table (`experiments.store.RunStore.points()`: one row per
point — point id, family, mapping, the workload keys, the parameters, the metrics) and `out_dir`
the run's `reproduction/` folder, the only place it writes (tables, plots). The returned figures
(ratios, means) are printed by `einspace sweep` and kept in `reproduction/summary.json`.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

from workloads.errors import SpecError

REPRODUCTIONS: dict[str, str] = {
    "fusemax": "experiments.reproductions.fusemax",
    "pim_gpt": "experiments.reproductions.pim_gpt",
    "bitmod": "experiments.reproductions.bitmod",
}


def check_name(name: str) -> str:
    if name not in REPRODUCTIONS:
        raise ValueError(f"unknown reproduction {name!r}; allowed: {', '.join(REPRODUCTIONS)}")
    return name


def summarize(name: str, points, run_root: Path) -> dict[str, float]:
    """Run the reproduction `name` over a finished run's points; write under RUN/reproduction/."""
    module = importlib.import_module(REPRODUCTIONS[check_name(name)])
    if points is None or not len(points):
        raise SpecError(f"reproduction {name}: the run has no finished points")
    out_dir = Path(run_root) / "reproduction"
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = module.summarize(points, out_dir)
    tmp = out_dir / ".summary.json.tmp"
    tmp.write_text(json.dumps(figures, indent=2, sort_keys=True))
    tmp.replace(out_dir / "summary.json")
    return figures
