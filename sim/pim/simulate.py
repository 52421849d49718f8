"""`simulate(mapping, system) -> Result`: a PIM-GPT decode, one row per Einsum of the cascade.

Timing: `sim.pim.analytic.AnalyticRunner` (proven equal to `run_fast` and the event-driven
`run_event`) runs the program's tokens back to back as one command stream, channel state and
refresh phase carried from token to token. Every step is one Einsum, so an Einsum's row sums its
steps over the tokens: `cycles` in DRAM tCK (the clock every step is timed on; ASIC time is
converted onto it), `latency_s`, and the critical channel's `refresh_s` and `bus_s` (its bus
bursts) inside a PIM step's latency. PIM-GPT runs one step at a time (no overlap), so the rows'
latencies add up to the run's.

Per Einsum: `macs` as executed (the cascade's count; with several tokens, attention's MACs scaled to
each token's kv length), energy by component and traffic from the step's commands
(`sim.pim.energy`). Design figures: the area PIM-GPT adds (`sim.pim.area`) and the speedups per
token over the T4 roofline and eager baselines on the same cascade (`sim.pim.baselines`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sim.contract import Mapping, Result
from sim.pim.analytic import AnalyticRunner
from sim.pim.area import pim_area_mm2
from sim.pim.baselines import gpu_speedups
from sim.pim.energy import energy_parts_j, traffic_bytes
from sim.pim.program import DecodeProgram
from sim.pim.spec import PimSystem


def _run(program: DecodeProgram, n: int, system: PimSystem) -> tuple[list, list, list]:
    """Per step: cycles (PIM steps timed on the analytic path, ASIC/transfer steps their own
    cycles), the critical channel's refresh and bus cycles, summed over the program's tokens."""
    runner = AnalyticRunner(system.standard, system.channels)
    cycles, refresh, bus = [0] * n, [0] * n, [0] * n
    for token in range(program.tokens):
        lead, items = program.token_segments(token)
        runner.run_segments(lead, items, cycles, refresh, bus)
    return cycles, refresh, bus


def _macs(mapping: Mapping, program: DecodeProgram) -> np.ndarray:
    """MACs per Einsum over the run: attention's scale with each token's kv length."""
    kv = sum(program.token_kv(t) for t in range(program.tokens))
    out = []
    for s, dependent in zip(mapping.cascade.stats, program.kv_dependent):
        out.append(s.macs // program.kv_len * kv if dependent and s.macs else s.macs * program.tokens)
    return np.array(out, dtype=np.int64)


def _rows(mapping: Mapping, program: DecodeProgram, system: PimSystem) -> pd.DataFrame:
    """One row per Einsum, energy and traffic computed column-wise from the command counts."""
    n = len(mapping.einsums)
    cycles, refresh, bus = _run(program, n, system)
    asic, transfer, counts = program.work_totals()
    cycles = np.array(cycles, dtype=np.int64) + np.array(asic, dtype=np.int64) + np.array(transfer, dtype=np.int64)
    tck_s = system.standard.tck_ns * 1e-9
    link = np.array([(m.offchip_bytes or 0.0) * program.tokens if m.unit == "link" else 0.0
                     for m in mapping.einsums])
    names = sorted({k for c in counts for k in c})
    columns = {k: np.array([c.get(k, 0) for c in counts], dtype=np.int64) for k in names}
    es = mapping.cascade.einsums
    rows = {"einsum": [m.einsum for m in mapping.einsums], "unit": [m.unit for m in mapping.einsums],
            "group": [e.group for e in es], "layer": [e.layer for e in es], "macs": _macs(mapping, program),
            "cycles": cycles, "latency_s": cycles * tck_s,
            "refresh_s": np.array(refresh, dtype=np.int64) * tck_s, "bus_s": np.array(bus, dtype=np.int64) * tck_s}
    rows.update(energy_parts_j(columns, np.array(asic, dtype=np.int64) * tck_s, link, system))
    rows.update(traffic_bytes(columns, link, system))
    return pd.DataFrame(rows)


def simulate(mapping: Mapping, system: PimSystem) -> Result:
    """Run `mapping` (its `plan` a `sim.pim.program.DecodeProgram`) on `system`."""
    program = mapping.plan
    if not isinstance(program, DecodeProgram):
        raise TypeError(f"pim simulate needs a DecodeProgram as Mapping.plan, got {type(program).__name__}")
    rows = _rows(mapping, program, system)
    per_token_s = float(rows["latency_s"].sum()) / program.tokens
    design = {**pim_area_mm2(system), **gpu_speedups(mapping.cascade, per_token_s)}
    return Result(family="pim", rows=rows, design=design, tokens=program.tokens * program.queries)
