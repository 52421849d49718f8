"""A request's decode steps: simulated at sampled cache lengths, interpolated over kv between them.

Step t of a request decodes at `kv = P + t`. Simulating a step means lowering its cascade and
running every unit's family on it (`experiments.system.costs`), which is what makes a long
generation slow (LLaMA-2-7B, 32 layers: ~1.8 s a step). Across the steps only the attention over
the cache changes, and it grows (close to) linearly with kv, so:

* `exact`: every step simulated (`evaluate_phase` per kv), as before;
* `interpolate` (default): the first and the last step are simulated, then the middle one; when
  the middle step's simulated figures agree with the straight line between its neighbours to
  within `tol` (latency and energy of the step, and every unit's busy time and energy, each
  relative to the step's total), the steps in each half are interpolated linearly between the
  simulated steps that bound them; otherwise each half is refined the same way (down to every
  step). A half whose two ends differ in structure (placement, rows) is simulated step by step.

An interpolated step's `Result` has the rows of the sample below it with every numeric column
(latency, start, end, energy by component, bytes, MACs, cycles) and every design figure set to
`a + (b - a) * w`, `w` the step's fraction of the way from kv_a to kv_b; its `mapping` and `costs`
are that sample's (the placement is the same), and `PhaseEval.interpolated` is True. The sampled
steps are exact. `tests/experiments/test_system_decode.py` proves TPOT, decode time, energy and
J/token within 0.1 % of per-token simulation on the presets (docs/system.md has the figures).
The tolerance is a check at the sampled points, not a bound between them: a family whose cost
jumps at a kv between two samples that agree (e.g. a tile boundary) is interpolated across.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pandas as pd

from experiments.system.evaluate import PhaseEval, evaluate_phase
from sim.contract import Result

MODES = ("interpolate", "exact")
TOL = 1e-3
KEEP = ("layer", "modeled")  # numeric-looking columns that are labels, not quantities


def _numeric(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if c not in KEEP and pd.api.types.is_numeric_dtype(rows[c])
            and not pd.api.types.is_bool_dtype(rows[c])]


def same_structure(a: Result, b: Result) -> bool:
    """True when two step Results have the same Einsums on the same units (interpolable)."""
    ra, rb = a.rows, b.rows
    return (list(ra.columns) == list(rb.columns) and list(ra["einsum"]) == list(rb["einsum"])
            and list(ra["unit"]) == list(rb["unit"]) and set(a.design) == set(b.design))


def blend(a: Result, b: Result, w: float) -> Result:
    """The Result a fraction `w` of the way from `a` to `b` (same structure), numeric columns linear."""
    rows = a.rows.copy()
    cols = _numeric(rows)
    rows[cols] = a.rows[cols].astype(float) + (b.rows[cols].astype(float) - a.rows[cols].astype(float)) * w
    rows["macs"] = rows["macs"].round().astype("int64")
    design = {k: a.design[k] + (b.design[k] - a.design[k]) * w for k in a.design}
    return Result(family=a.family, rows=rows, design=design, tokens=a.tokens)


def agrees(predicted: Result, simulated: Result, tol: float = TOL) -> bool:
    """The interpolated step matches the simulated one within `tol` (module docstring)."""
    lat, energy = simulated.latency_s, simulated.energy_j
    if abs(predicted.latency_s - lat) > tol * lat or abs(predicted.energy_j - energy) > tol * energy:
        return False
    for key, value in simulated.design.items():
        if key.startswith("busy_s_") and abs(predicted.design[key] - value) > tol * lat:
            return False
    by_unit = predicted.energy_by("unit") - simulated.energy_by("unit")
    return bool((by_unit.abs() <= tol * energy).all())


class _Steps:
    """Sampled steps by kv; `refine` fills an interval between two samples."""

    def __init__(self, simulate: Callable[[int], PhaseEval], tol: float) -> None:
        self.simulate, self.tol = simulate, tol
        self.samples: dict[int, PhaseEval] = {}
        self.spans: list[tuple[int, int]] = []  # intervals interpolated between their ends

    def at(self, kv: int) -> PhaseEval:
        if kv not in self.samples:
            self.samples[kv] = self.simulate(kv)
        return self.samples[kv]

    def refine(self, lo: int, hi: int) -> None:
        a, b = self.at(lo), self.at(hi)
        if hi - lo < 2:
            return
        mid = (lo + hi + 1) // 2
        if not same_structure(a.result, b.result):
            for kv in range(lo + 1, hi):
                self.at(kv)
            return
        m = self.at(mid)
        predicted = blend(a.result, b.result, (mid - lo) / (hi - lo))
        if agrees(predicted, m.result, self.tol) and same_structure(a.result, m.result) \
                and same_structure(m.result, b.result):
            self.spans += [(lo, mid), (mid, hi)]
            return
        self.refine(lo, mid)
        self.refine(mid, hi)

    def step(self, kv: int, workload: dict) -> PhaseEval:
        if kv in self.samples:
            return self.samples[kv]
        lo, hi = next((lo, hi) for lo, hi in self.spans if lo < kv < hi)
        a = self.samples[lo]
        result = blend(a.result, self.samples[hi].result, (kv - lo) / (hi - lo))
        return replace(a, workload=workload, result=result, search=None, interpolated=True)


def decode_steps(system, request, placement, objective: str = "latency_s", mode: str = "interpolate",
                 tol: float = TOL, progress: Callable[[int, int], None] | None = None) -> tuple[PhaseEval, ...]:
    """The request's G decode steps (kv = P … P+G-1), all placed by `placement` (module docstring)."""
    kvs = request.decode_kv()
    if mode not in MODES:
        raise ValueError(f"decode mode {mode!r}; allowed: {', '.join(MODES)}")
    steps = _Steps(lambda kv: evaluate_phase(system, request.workload("decode", kv), placement, objective), tol)
    if mode == "exact":
        for kv in kvs:
            steps.at(kv)
    else:
        steps.refine(kvs[0], kvs[-1])
    out = []
    for i, kv in enumerate(kvs):
        out.append(steps.step(kv, request.workload("decode", kv)))
        if progress is not None:
            progress(i + 1, len(kvs))
    return tuple(out)


def sampled(steps: tuple[PhaseEval, ...]) -> int:
    """How many of the steps were simulated (the rest interpolated)."""
    return sum(not s.interpolated for s in steps)
