"""Pareto extraction against a brute-force O(n²) dominance check."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.pareto import feasible, non_dominated, pareto_mask


def _brute(values: np.ndarray) -> np.ndarray:
    n = len(values)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if i != j and np.all(values[j] <= values[i]) and np.any(values[j] < values[i]):
                keep[i] = False
                break
    return keep


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_non_dominated_matches_brute_force(k, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 12, size=(150, k)).astype(float)  # many ties and duplicates
    assert (non_dominated(values) == _brute(values)).all()
    cont = rng.random((200, k))
    assert (non_dominated(cont) == _brute(cont)).all()


def test_constraints_max_sense_and_groups():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"lat": rng.random(120), "thr": rng.random(120), "area": rng.random(120) * 10,
                       "model": rng.choice(["a", "b"], 120)})
    cons = {"area": {"max": 6.0}}
    mask = pareto_mask(df, {"lat": "min", "thr": "max"}, cons, ["model"])
    ok = feasible(df, cons)
    for m in ("a", "b"):
        sel = (df["model"] == m).to_numpy() & ok
        vals = np.column_stack([df["lat"].to_numpy()[sel], -df["thr"].to_numpy()[sel]])
        assert (mask[sel] == _brute(vals)).all()
    assert not mask[~ok].any()
