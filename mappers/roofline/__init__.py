"""Mapping onto a roofline accelerator: one unit, every Einsum alone (`unfused`), or each matrix
Einsum as its best loop nest on the accelerator's PE array (`search`, `search-energy`,
`search-edp`: the objective of `mappers.mapspace.search`), or `search`'s nests with intermediates
kept in the global buffer where they fit (`search-fused`, `mappers.mapspace.fusion`).

The roofline model (`sim.roofline`) has a single compute unit and no inter-Einsum fusion: each
Einsum reads its operands from and writes its result to off-chip memory. The mapping records that
choice per Einsum together with the off-chip traffic it implies (compulsory traffic, or the matmul
I/O lower bound when the operands do not fit the buffer: `sim.roofline.offchip_bytes`). With a
`search` strategy, the matrix Einsums' plans are `sim.pe_array.nest.NestPlan`s on
`sim.pe_array.spec.from_roofline(spec)` and their off-chip bytes are the nest's DRAM traffic;
the other Einsums keep the roofline's. Under `search-fused` the Mapping's plan is the
`sim.pe_array.fusion.FusionPlan`, each Einsum carries its `fusion_group`, and its off-chip bytes
are less the fused tensors' bytes.
"""
from __future__ import annotations

from mappers.mapspace.cascade import map_cascade
from mappers.mapspace.fusion import fuse
from sim.contract import EinsumMapping, Mapping
from sim.pe_array.cost import level_footprint
from sim.pe_array.fusion import FusionPlan
from sim.pe_array.nest import NestPlan
from sim.pe_array.spec import from_roofline
from sim.roofline import RooflineSpec, offchip_bytes
from workloads.errors import SpecError

SEARCH = {"search": "latency", "search-energy": "energy", "search-edp": "edp", "search-fused": "latency"}
FUSED = ("search-fused",)
STRATEGIES = ("unfused", *SEARCH)


def fusion_plan(cascade, spec: RooflineSpec, pe, plans: dict, traffic: dict) -> FusionPlan:
    """The greedy fusion of `cascade` on `spec`'s global buffer (`mappers.mapspace.fusion`)."""
    footprint = {n: level_footprint(p.problem, p.nest, pe, 1) for n, p in plans.items()}
    return fuse(cascade, spec.buffer_bytes, footprint, traffic, {n: spec.word_bytes for n in plans})


def map(cascade, spec: RooflineSpec, strategy: str = "unfused", mode: str = "cycle") -> Mapping:  # noqa: A001
    """Every Einsum of `cascade` on `spec`'s one unit, unfused; matrix Einsums as searched nests
    under a `search` strategy; intermediates fused where they fit under `search-fused`."""
    if strategy not in STRATEGIES:
        raise SpecError(f"roofline mapping {strategy!r} is not known; allowed: {', '.join(STRATEGIES)}")
    traffic = dict(zip((e.name for e in cascade.einsums), offchip_bytes(cascade.table(), spec)))
    plans: dict = {}
    fused = FusionPlan()
    if strategy in SEARCH:
        pe = from_roofline(spec)
        word = spec.word_bytes
        for name, res in map_cascade(cascade, pe, SEARCH[strategy], element_bytes=(word, word, word)).items():
            plans[name] = NestPlan(res.problem, res.nest, SEARCH[strategy], res.evaluated)
            traffic[name] = res.cost.bytes_by_level[pe.levels[0].name]
        if strategy in FUSED:
            fused = fusion_plan(cascade, spec, pe, plans, traffic)
    einsums = tuple(EinsumMapping(einsum=e.name, unit=spec.name, plan=plans.get(e.name),
                                  fusion_group=fused.groups.get(e.name, ""),
                                  offchip_bytes=float(traffic[e.name]) - fused.removed.get(e.name, 0.0))
                    for e in cascade.einsums)
    return Mapping(family="roofline", strategy=strategy, cascade=cascade, einsums=einsums, mode="analytical",
                   plan=fused if strategy in FUSED else None)
