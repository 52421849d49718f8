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

Strategy `search`: every matrix Einsum's loop nest is searched (`mappers.mapspace.search`,
latency) on the bit-serial array as the nest model sees it (`sim.pe_array.spec.from_bitserial`:
term cycles per step from the datatype, lanes over the reduction); its plan is a
`sim.pe_array.nest.NestPlan`, costed by `sim.pe_array.bitserial.simulate` in either mode.
"""
from __future__ import annotations

from mappers.bitserial.gemm import extract_gemms
from mappers.bitserial.schedule import gemm_plan
from mappers.mapspace import search
from sim.pe_array.nest import NestPlan, gemm
from sim.pe_array.spec import from_bitserial
from sim.bitserial import MODES, UNIT
from sim.bitserial.spec import AcceleratorSpec
from sim.contract import EinsumMapping, Mapping
from workloads.errors import SpecError

STRATEGIES = ("output-stationary", "search")
HOST = "host"


def search_plan(g, accel: AcceleratorSpec) -> NestPlan:
    """The searched nest of GEMM `g` on `accel`'s PE array (strategy `search`)."""
    att = g.is_attention
    act, static = accel.act_bits / 8, accel.static_bits(att) / 8
    problem = gemm(g.batch, g.m_tokens, g.k_reduce, g.n_out, act, static, act)
    found = search(problem, from_bitserial(accel, att))
    return NestPlan(problem, found.nest, "latency", found.evaluated, att)


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
            plans[key] = search_plan(g, accel) if strategy == "search" else gemm_plan(g, accel, mode)
        plan = plans[key]
        traffic = None if getattr(plan, "schedule", None) is None else float(plan.schedule["load_bytes"].sum()
                                                                            + plan.schedule["store_bytes"].sum())
        entries[g.name] = EinsumMapping(einsum=g.name, unit=UNIT, plan=plan, offchip_bytes=traffic)
    einsums = tuple(entries.get(e.name) or EinsumMapping(einsum=e.name, unit=HOST) for e in cascade.einsums)
    return Mapping(family="bitserial", strategy=strategy, cascade=cascade, einsums=einsums, mode=mode)
