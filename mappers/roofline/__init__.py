"""Mapping onto a roofline accelerator: one unit, every Einsum alone (`unfused`).

The roofline model (`sim.roofline`) has a single compute unit and no inter-Einsum fusion: each
Einsum reads its operands from and writes its result to off-chip memory. The mapping records that
choice per Einsum together with the off-chip traffic it implies (compulsory traffic, or the matmul
I/O lower bound when the operands do not fit the buffer: `sim.roofline.offchip_bytes`).
"""
from __future__ import annotations

from sim.contract import EinsumMapping, Mapping
from sim.roofline import RooflineSpec, offchip_bytes
from workloads.errors import SpecError

STRATEGIES = ("unfused",)


def map(cascade, spec: RooflineSpec, strategy: str = "unfused", mode: str = "cycle") -> Mapping:  # noqa: A001
    """Every Einsum of `cascade` on `spec`'s one unit, unfused."""
    if strategy not in STRATEGIES:
        raise SpecError(f"roofline mapping {strategy!r} is not known; allowed: {', '.join(STRATEGIES)}")
    traffic = offchip_bytes(cascade.table(), spec)
    einsums = tuple(EinsumMapping(einsum=e.name, unit=spec.name, offchip_bytes=float(b))
                    for e, b in zip(cascade.einsums, traffic))
    return Mapping(family="roofline", strategy=strategy, cascade=cascade, einsums=einsums, mode="analytical")
