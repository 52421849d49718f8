"""`simulate(mapping, spec)` for a roofline accelerator whose matrix Einsums carry loop nests.

Rows start as `sim.roofline.einsum_rows` (every Einsum alone, max of compute, vector and DRAM
time). An Einsum whose plan is a `sim.pe_array.nest.NestPlan` is costed instead by its nest on
`sim.pe_array.spec.from_roofline(spec)` (`sim.pe_array.cost.evaluate`): `compute_s` the nest's
compute plus systolic fill/drain, `memory_s` the slowest level's bandwidth time, `latency_s`
the larger of the nest's cycles and the Einsum's vector time; `offchip_bytes` the nest's DRAM
bytes, `bytes_glb`/`bytes_pe` the global buffer's and the PE levels' accesses; energy: MACs,
`energy_sram_j` the global buffer, `energy_pe_j` the PE-local levels, `energy_dram_j` DRAM, static
power × latency.

A `search-fused` mapping's plan is a `sim.pe_array.fusion.FusionPlan`: each Einsum's DRAM bytes
drop by what fusion removes from it (a nest's DRAM level, or the roofline row), and the rows gain
the `fusion_group` column.
"""
from __future__ import annotations

import pandas as pd

from sim import roofline
from sim.contract import Mapping, Result
from sim.pe_array import fusion
from sim.pe_array.cost import evaluate, less_outer_traffic
from sim.pe_array.nest import NestPlan
from sim.pe_array.spec import from_roofline


def nest_row(plan: NestPlan, pe, spec: roofline.RooflineSpec, vector_s: float, removed: float = 0.0) -> dict:
    """The roofline row columns of one Einsum costed by its nest (`removed`: DRAM bytes fusion
    keeps on chip)."""
    cost = less_outer_traffic(evaluate(plan.problem, plan.nest, pe), pe, removed)
    names = [lvl.name for lvl in pe.levels]
    clock = spec.clock_hz
    latency = max(cost.cycles / clock, vector_s)
    memory = max(cost.bandwidth_cycles.values(), default=0.0) / clock
    compute = max((cost.compute_cycles + cost.fill_drain_cycles) / clock, vector_s)
    return {"offchip_bytes": cost.bytes_by_level[names[0]], "compute_s": compute, "memory_s": memory,
            "latency_s": latency, "cycles": latency * clock, "bound": "memory" if memory > compute else "compute",
            "energy_mac_j": cost.energy_mac_pj * 1e-12, "energy_sram_j": cost.energy_pj_by_level[names[1]] * 1e-12,
            "energy_pe_j": sum(cost.energy_pj_by_level[n] for n in names[2:]) * 1e-12,
            "energy_dram_j": cost.energy_pj_by_level[names[0]] * 1e-12,
            "energy_static_j": latency * spec.static_power_w, "bytes_glb": cost.bytes_by_level[names[1]],
            "bytes_pe": sum(cost.bytes_by_level[n] for n in names[2:])}


def simulate(mapping: Mapping, spec: roofline.RooflineSpec) -> Result:
    """The roofline Result with every `NestPlan` Einsum costed by its nest (module docstring)."""
    cascade = mapping.cascade
    rows = roofline.einsum_rows(cascade.table(), spec)
    rows.insert(1, "unit", [mapping.of(n).unit for n in rows["einsum"]])
    for col in ("energy_pe_j", "bytes_glb", "bytes_pe"):
        rows[col] = 0.0
    pe = from_roofline(spec)
    fused = mapping.plan if isinstance(mapping.plan, fusion.FusionPlan) else None
    removed = fused.removed if fused is not None else {}
    updates = {}
    for i, name in enumerate(rows["einsum"]):
        plan = mapping.of(name).plan
        if isinstance(plan, NestPlan):
            updates[i] = nest_row(plan, pe, spec, rows.at[i, "vector_ops"] / spec.vector_ops_per_s,
                                  removed.get(name, 0.0))
        else:
            fusion.apply(rows, i, removed.get(name, 0.0), spec)
    if updates:
        upd = pd.DataFrame.from_dict(updates, orient="index")
        for col in upd.columns:
            rows.loc[upd.index, col] = upd[col].to_numpy()
    if fused is not None:
        rows["fusion_group"] = [mapping.of(n).fusion_group for n in rows["einsum"]]
    return Result(family="roofline", rows=rows, tokens=roofline.tokens_of(cascade.meta),
                  design=roofline.design_figures(spec, rows))
