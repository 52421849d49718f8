"""NSGA-II (pymoo): seeded, resumable, stays inside the constraint when it can."""
from __future__ import annotations

import importlib.util
import textwrap

import pandas as pd
import pytest

from experiments.runner import load_results, run_sweep
from experiments.store import RunStore

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pymoo") is None, reason="pymoo not installed")

EXP = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [prefill], seq_len: [32], layers: 1, lm_head: none}
    family: roofline
    fixed: {node_nm: 28, dram: hbm2}
    sweep:
      pes: {logrange: [64, 16384, 9]}
      clock_mhz: {range: [200, 2000, 100]}
      buffer_mib: {logrange: [0.125, 64, 10]}
    objectives: {latency_s: min, energy_j: min, area_mm2: min}
    constraints: {area_mm2: {max: 50}}
    search: {method: nsga2, budget: 40, pop_size: 10, seed: 1}
    """)


def test_nsga2_is_seeded_and_resumable(tmp_path):
    f = tmp_path / "n.yaml"
    f.write_text(EXP)
    a = run_sweep(f, run="a", runs_dir=tmp_path, progress=False)
    assert 10 < a.computed <= 40
    run_sweep(f, run="b", runs_dir=tmp_path, progress=False, jobs=2)
    pd.testing.assert_frame_equal(RunStore(tmp_path / "a").points(), RunStore(tmp_path / "b").points())
    again = run_sweep(f, resume="a", runs_dir=tmp_path, progress=False)
    assert again.computed == 0
    points, _, _ = load_results("a", tmp_path)
    assert points["pareto"].sum() >= 2 and (points.loc[points["pareto"], "area_mm2"] <= 50).all()
