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

import pandas as pd

from sim.contract import Mapping, Result
from sim.pim.analytic import AnalyticRunner
from sim.pim.area import pim_area_mm2
from sim.pim.baselines import gpu_speedups
from sim.pim.energy import energy_parts_j, traffic_bytes
from sim.pim.program import DecodeProgram
from sim.pim.spec import PimSystem
from sim.pim.stream import AsicStep, step_counts


class _PerEinsum:
    """Cycles, shares and command counts per Einsum, summed over the tokens of a run."""

    def __init__(self, n: int) -> None:
        self.cycles = [0] * n
        self.refresh = [0] * n
        self.bus = [0] * n
        self.asic = [0] * n
        self.counts: list[dict[str, int]] = [{} for _ in range(n)]
        self._counts_of: dict[int, tuple] = {}

    def _step_counts(self, step) -> dict[str, int]:
        hit = self._counts_of.get(id(step))
        if hit is None or hit[0] is not step:
            hit = self._counts_of[id(step)] = (step, step_counts(step))
        return hit[1]

    def add(self, steps: list, timings: list) -> None:
        for i, (step, t) in enumerate(zip(steps, timings)):
            self.cycles[i] += t.cycles
            if isinstance(step, AsicStep):
                if step.category == "asic":
                    self.asic[i] += t.cycles
                continue
            self.refresh[i] += t.refresh_cycles
            self.bus[i] += t.transfer_cycles
            total = self.counts[i]
            for name, c in self._step_counts(step).items():
                total[name] = total.get(name, 0) + c


def _run(mapping: Mapping, program: DecodeProgram, system: PimSystem) -> _PerEinsum:
    runner = AnalyticRunner(system.standard, system.channels)
    acc = _PerEinsum(len(mapping.einsums))
    for token in range(program.tokens):
        steps = ([m.plan for m in mapping.einsums] if program.tokens == 1
                 else program.token_steps(token))
        acc.add(steps, runner.run(steps).steps)
    return acc


def _macs(mapping: Mapping, program: DecodeProgram) -> list[int]:
    """MACs per Einsum over the run: attention's scale with each token's kv length."""
    kv = sum(program.token_kv(t) for t in range(program.tokens))
    out = []
    for s, dependent in zip(mapping.cascade.stats, program.kv_dependent):
        out.append(s.macs // program.kv_len * kv if dependent and s.macs else s.macs * program.tokens)
    return out


def _rows(mapping: Mapping, program: DecodeProgram, acc: _PerEinsum, system: PimSystem) -> pd.DataFrame:
    tck_s = system.standard.tck_ns * 1e-9
    rows = []
    for i, (m, e, macs) in enumerate(zip(mapping.einsums, mapping.cascade.einsums, _macs(mapping, program))):
        link = (m.offchip_bytes or 0.0) * program.tokens if m.unit == "link" else 0.0
        row = {"einsum": m.einsum, "unit": m.unit, "group": e.group, "layer": e.layer, "macs": macs,
               "cycles": acc.cycles[i], "latency_s": acc.cycles[i] * tck_s,
               "refresh_s": acc.refresh[i] * tck_s, "bus_s": acc.bus[i] * tck_s}
        row.update(energy_parts_j(acc.counts[i], acc.asic[i] * tck_s, link, system))
        row.update(traffic_bytes(acc.counts[i], link, system))
        rows.append(row)
    return pd.DataFrame(rows)


def simulate(mapping: Mapping, system: PimSystem) -> Result:
    """Run `mapping` (its `plan` a `sim.pim.program.DecodeProgram`) on `system`."""
    program = mapping.plan
    if not isinstance(program, DecodeProgram):
        raise TypeError(f"pim simulate needs a DecodeProgram as Mapping.plan, got {type(program).__name__}")
    acc = _run(mapping, program, system)
    rows = _rows(mapping, program, acc, system)
    per_token_s = float(rows["latency_s"].sum()) / program.tokens
    design = {**pim_area_mm2(system), **gpu_speedups(mapping.cascade, per_token_s)}
    return Result(family="pim", rows=rows, design=design, tokens=program.tokens * program.queries)
