"""`map(cascade, accel, strategy, mode) -> Mapping` for the bit-serial PE array (`sim.bitserial`).

Strategy `output-stationary` (the dataflow of the BitMoD authors' simulator, `_calc_tile_fc`):
every matrix Einsum (QKV, projections, MLP, LM head, the attention matmuls QK/AV; `gemm`) runs on
unit `pe-array` as a batched GEMM with outputs held in the PEs while the reduction streams through;
its plan is a `sim.bitserial.plan.GemmPlan` — the GEMM shape and, in `cycle` mode, the
buffer-level tile schedule with its loop order and refetches (`schedule`), whose loads and stores
are the Einsum's `offchip_bytes`. In `paper` mode the plan is the shape alone (the paper's
accounting applies its own refetch rule). Vector Einsums (norms, softmax, activations, residuals)
go to unit `host` with no plan: this accelerator model does not cost them. GEMMs of equal shape
share one plan.
"""
from __future__ import annotations

from mappers.bitserial.gemm import extract_gemms
from mappers.bitserial.schedule import gemm_plan
from sim.bitserial import MODES, UNIT
from sim.bitserial.spec import AcceleratorSpec
from sim.contract import EinsumMapping, Mapping
from workloads.errors import SpecError

STRATEGIES = ("output-stationary",)
HOST = "host"


def map(cascade, accel: AcceleratorSpec, strategy: str = "output-stationary", mode: str = "paper") -> Mapping:  # noqa: A001
    """Every Einsum of `cascade` placed on `accel`'s PE array (matrix) or the host (vector)."""
    if strategy not in STRATEGIES:
        raise SpecError(f"bitserial mapping {strategy!r} is not known; allowed: {', '.join(STRATEGIES)}")
    if mode not in MODES:
        raise SpecError(f"bitserial mode {mode!r} is not known; choose one of: {', '.join(MODES)}")
    plans: dict[tuple, object] = {}
    entries = {}
    for g in extract_gemms(cascade):
        key = g.key
        if key not in plans:
            plans[key] = gemm_plan(g, accel, mode)
        plan = plans[key]
        traffic = None if plan.schedule is None else float(plan.schedule["load_bytes"].sum()
                                                           + plan.schedule["store_bytes"].sum())
        entries[g.name] = EinsumMapping(einsum=g.name, unit=UNIT, plan=plan, offchip_bytes=traffic)
    einsums = tuple(entries.get(e.name) or EinsumMapping(einsum=e.name, unit=HOST) for e in cascade.einsums)
    return Mapping(family="bitserial", strategy=strategy, cascade=cascade, einsums=einsums, mode=mode)
