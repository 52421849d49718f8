"""`simulate(mapping, accel)` for the bit-serial family's `search` mapping: every matrix Einsum
carries a searched loop nest (`sim.pe_array.nest.NestPlan`) and is costed by it on
`sim.pe_array.spec.from_bitserial(accel, attention)` (`sim.pe_array.cost.evaluate`) instead of
the fixed output-stationary tile schedule of `sim.bitserial`.

Row columns are `sim.bitserial`'s: `cycles` the nest's (max of compute and each level's bandwidth
time, GEMMs one after another), `compute_cycles` its temporal steps × term cycles, `stall_cycles`
the rest (bandwidth-bound time; no separate fill/drain: the array is not systolic),
`offchip_bytes` its DRAM bytes; energy: `energy_compute_j` the PE's energy per MAC step,
`energy_sram_j` the weight/input buffers' accesses, `energy_dram_j` DRAM. Vector Einsums (no
plan) are not modeled, as in `sim.bitserial`. Equal shapes are costed once.
"""
from __future__ import annotations

import math

import pandas as pd

from sim.bitserial.simulator import FAMILY, design_figures, unmodeled_row
from sim.contract import Mapping, Result
from sim.pe_array.cost import evaluate
from sim.pe_array.nest import NestPlan
from sim.pe_array.spec import from_bitserial
from sim.roofline import tokens_of
from workloads.errors import SpecError


def nest_row(plan: NestPlan, accel) -> dict:
    """`sim.bitserial`'s row columns of one GEMM costed by its nest."""
    pe = from_bitserial(accel, plan.attention)
    cost = evaluate(plan.problem, plan.nest, pe)
    if not cost.valid:
        raise SpecError(f"{plan.problem.name}: the searched nest does not fit {pe.name} ({cost.reason})")
    dram, glb = pe.levels[0].name, pe.levels[1].name
    return {"cycles": cost.cycles, "latency_s": cost.cycles / accel.clock_hz, "compute_cycles": cost.compute_cycles,
            "fill_cycles": 0, "stall_cycles": cost.cycles - cost.compute_cycles, "drain_cycles": 0,
            "offchip_bytes": cost.bytes_by_level[dram], "energy_compute_j": cost.energy_mac_pj * 1e-12,
            "energy_sram_j": cost.energy_pj_by_level[glb] * 1e-12,
            "energy_dram_j": cost.energy_pj_by_level[dram] * 1e-12, "modeled": True}


def simulate(mapping: Mapping, accel) -> Result:
    """Cost every Einsum of `mapping.cascade` on `accel` by its nest (module docstring)."""
    if accel.dram.model != "bandwidth":
        raise SpecError("bitserial mapping 'search' costs nests on the DRAM bus's bandwidth; "
                        "the command-level DRAM model needs mapping output-stationary")
    cascade = mapping.cascade
    entries = {m.einsum: m for m in mapping.einsums}
    memo: dict[tuple, dict] = {}
    rows = []
    for einsum, stats in zip(cascade.einsums, cascade.stats):
        plan = entries[einsum.name].plan
        if isinstance(plan, NestPlan):
            key = (plan.problem.ranks, plan.problem.tensors, plan.nest, plan.attention)
            if key not in memo:
                memo[key] = nest_row(plan, accel)
            cost = memo[key]
        else:
            cost = unmodeled_row()
        layer = math.nan if einsum.layer is None else float(einsum.layer)
        rows.append({"einsum": einsum.name, "unit": entries[einsum.name].unit, "group": einsum.group,
                     "layer": layer, "macs": stats.macs, **cost})
    table = pd.DataFrame(rows)
    return Result(family=FAMILY, rows=table, tokens=tokens_of(cascade.meta),
                  design=design_figures(accel, table, cascade))
