"""Non-dominated (Pareto) extraction over 2–3 objectives, with constraints.

A point p dominates q when p is no worse in every objective and strictly better in at least one
(after turning `max` objectives into minimization). Infeasible points (violating a constraint) are
never on the front. Comparisons are made only among points of the same workload, across
families when an experiment lists several. A point whose family does not model an objective (NaN,
e.g. the attention family's area) cannot be compared and is never on the front.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

WORKLOAD_COLUMNS = ("model", "phase", "batch", "seq_len", "kv_len", "layers", "attention", "block", "lm_head",
                    "weight_dtype", "activation_dtype", "kv_dtype")


def _minimization(df: pd.DataFrame, objectives: dict[str, str]) -> np.ndarray:
    cols = []
    for name, sense in objectives.items():
        v = df[name].to_numpy(float)
        cols.append(-v if sense == "max" else v)
    return np.column_stack(cols) if cols else np.empty((len(df), 0))


def non_dominated(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of `values` (n × k, all minimized) that no other row dominates.
    Sort by the first objective then sweep; each candidate is checked against the current front."""
    n = len(values)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    order = np.lexsort(values.T[::-1])
    front: list[int] = []
    for i in order:
        v = values[i]
        if front:
            f = values[front]
            if np.any(np.all(f <= v, axis=1) & np.any(f < v, axis=1)):
                continue
        front.append(i)
    mask[front] = True
    return mask


def feasible(df: pd.DataFrame, constraints: dict) -> np.ndarray:
    """Rows that meet every `{name: {min, max}}` constraint (bounds inclusive; NaN fails)."""
    ok = np.ones(len(df), dtype=bool)
    for name, bound in constraints.items():
        lo = bound.min if hasattr(bound, "min") else bound.get("min")
        hi = bound.max if hasattr(bound, "max") else bound.get("max")
        col = name if name in df.columns else f"param_{name}"
        v = df[col].to_numpy(float) if col in df.columns else np.full(len(df), np.nan)
        if lo is not None:
            ok &= v >= lo
        if hi is not None:
            ok &= v <= hi
        ok &= ~np.isnan(v)
    return ok


def pareto_mask(df: pd.DataFrame, objectives: dict[str, str], constraints: dict | None = None,
                group_by: list[str] | None = None) -> np.ndarray:
    """Front membership of each row, among feasible rows of its group."""
    ok = feasible(df, constraints or {})
    mask = np.zeros(len(df), dtype=bool)
    groups = [c for c in (group_by or []) if c in df.columns]
    keys = [repr(tuple(r)) for r in df[groups].itertuples(index=False)] if groups else [""] * len(df)
    vals = _minimization(df, objectives)
    buckets: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        buckets.setdefault(key, []).append(i)
    rankable = ok & ~np.isnan(vals).any(axis=1)
    for members in buckets.values():
        pos = np.asarray(members)
        pos = pos[rankable[pos]]
        mask[pos[non_dominated(vals[pos])]] = True
    return mask


def annotate(points: pd.DataFrame, exp) -> pd.DataFrame:
    """Add `feasible` and `pareto` (per workload) columns to a points table."""
    df = points.copy()
    if df.empty:
        df["feasible"], df["pareto"] = [], []
        return df
    df["feasible"] = feasible(df, exp.constraints)
    df["pareto"] = pareto_mask(df, exp.objectives, exp.constraints, list(WORKLOAD_COLUMNS))
    return df
