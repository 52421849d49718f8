"""`simulate(mapping, accel) -> Result`: a mapped cascade on a BitMoD-style PE array.

Per matrix Einsum (unit `pe-array`, plan a `sim.bitserial.plan.GemmPlan`) the cost is

* `mode == "paper"`: the paper's analytical accounting (`sim.bitserial.paper.paper_gemm`:
  max(compute, DRAM) per GEMM, no overlap between GEMMs);
* `mode == "cycle"`: the mapper's tile schedule stepped cycle by cycle with double buffering,
  refetch, fill/stall/drain (`sim.bitserial.cycle.cycle_gemm`).

GEMMs run one after another, so each Einsum's latency is its own cycles at the array clock.
Vector Einsums (norms, softmax, activations, residuals; no plan) are **not modeled** by this
accelerator model: their rows say `modeled=False` and carry zero cycles and energy but the
cascade's MACs; how many there are and their operations are the design figures
`vector_einsums_not_modeled` / `vector_ops_not_modeled`. Equal GEMM shapes (the same layer
repeated) are costed once.
"""
from __future__ import annotations

import math

import pandas as pd

from sim.bitserial.area import area_mm2
from sim.bitserial.cycle import cycle_gemm
from sim.bitserial.paper import paper_gemm
from sim.bitserial.plan import GemmPlan
from sim.bitserial.spec import AcceleratorSpec
from sim.contract import Mapping, Result
from sim.roofline import tokens_of
from workloads.errors import SpecError

MODES = ("paper", "cycle")
FAMILY = "bitserial"
CYCLE_CAUSES = ("compute_cycles", "fill_cycles", "stall_cycles", "drain_cycles")


def check_mode(mode: str, accel: AcceleratorSpec) -> None:
    """Raise `SpecError` for a mode this accelerator cannot be costed in."""
    if mode not in MODES:
        raise SpecError(f"bitserial mode {mode!r} is not known; choose one of: {', '.join(MODES)}")
    if mode == "paper" and accel.dram.model != "bandwidth":
        raise SpecError("the command-level DRAM model needs mode cycle; paper mode follows the "
                        "paper's bytes / bandwidth accounting")


def gemm_cost(plan: GemmPlan, accel: AcceleratorSpec, mode: str) -> dict:
    """Cycles, DRAM bytes and energy by component (pJ) of one planned GEMM in `mode`."""
    return paper_gemm(plan.gemm, accel) if mode == "paper" else cycle_gemm(plan, accel)


def gemm_row(cost: dict, accel: AcceleratorSpec) -> dict:
    """The Result columns of one costed GEMM (energy in J, latency at the array clock)."""
    return {"cycles": cost["cycles"], "latency_s": cost["cycles"] / accel.clock_hz,
            **{c: cost[c] for c in CYCLE_CAUSES}, "offchip_bytes": cost["dram_bytes"],
            "energy_compute_j": cost["energy_compute_pj"] * 1e-12, "energy_sram_j": cost["energy_sram_pj"] * 1e-12,
            "energy_dram_j": cost["energy_dram_pj"] * 1e-12, "modeled": True}


def unmodeled_row() -> dict:
    """A vector Einsum's row: nothing costed."""
    return {"cycles": 0, "latency_s": 0.0, **{c: 0 for c in CYCLE_CAUSES}, "offchip_bytes": 0.0,
            "energy_compute_j": 0.0, "energy_sram_j": 0.0, "energy_dram_j": 0.0, "modeled": False}


def simulate(mapping: Mapping, accel: AcceleratorSpec) -> Result:
    """Cost every Einsum of `mapping.cascade` on `accel` (see the module docstring)."""
    check_mode(mapping.mode, accel)
    cascade = mapping.cascade
    entries = {m.einsum: m for m in mapping.einsums}
    memo: dict[tuple, dict] = {}
    rows = []
    for einsum, stats in zip(cascade.einsums, cascade.stats):
        entry = entries[einsum.name]
        if isinstance(entry.plan, GemmPlan):
            if entry.plan.key not in memo:
                memo[entry.plan.key] = gemm_row(gemm_cost(entry.plan, accel, mapping.mode), accel)
            cost = memo[entry.plan.key]
        else:
            cost = unmodeled_row()
        layer = math.nan if einsum.layer is None else float(einsum.layer)
        rows.append({"einsum": einsum.name, "unit": entry.unit, "group": einsum.group, "layer": layer,
                     "macs": stats.macs, **cost})
    table = pd.DataFrame(rows)
    return Result(family=FAMILY, rows=table, tokens=tokens_of(cascade.meta),
                  design=design_figures(accel, table, cascade))


def design_figures(accel: AcceleratorSpec, rows: pd.DataFrame, cascade) -> dict[str, float]:
    """Area, effective weight bits, the array's MAC utilization over the modeled Einsums, and how
    much of the cascade was not modeled."""
    modeled = rows[rows["modeled"]]
    lane_cycles = float(modeled["cycles"].sum()) * accel.pes * accel.pe.lanes
    vector = [s for s, m in zip(cascade.stats, rows["modeled"]) if not m]
    return {"area_mm2": area_mm2(accel), "weight_bits": float(accel.weight_bits),
            "utilization": float(modeled["macs"].sum()) / lane_cycles if lane_cycles > 0 else 0.0,
            "vector_einsums_not_modeled": float(len(vector)),
            "vector_ops_not_modeled": float(sum(sum(s.ops.values()) for s in vector))}
