"""The attention dataflows the array runs, one module each; this registry is the one list of them.

Each module in ``_MODULES`` exposes ``DATAFLOW``, a ``base.Dataflow``: its softmax cascade, the
binding of that cascade's Einsums to the 2D and 1D arrays, its pipeline stages and (if the FuseMax
artifact models it) its paper-mode accounting. Adding a dataflow is one module here plus its loop
nests in ``mappers.attention.designs`` (docs/attention.md, "Adding a dataflow").
"""
from __future__ import annotations

import importlib

from sim.attention_array.dataflows.base import ENERGY_KIND, Dataflow, Stage, StageContext
from workloads.errors import SpecError

_MODULES = ("unfused", "flat", "flashattention2", "fusemax")

DATAFLOWS: dict[str, Dataflow] = {
    df.name: df for df in (importlib.import_module(f"sim.attention_array.dataflows.{m}").DATAFLOW for m in _MODULES)}
DESIGNS: tuple[str, ...] = tuple(DATAFLOWS)
PAPER_DESIGNS: tuple[str, ...] = tuple(n for n, d in DATAFLOWS.items() if d.paper is not None)
SKIPS_MASKED_TILES: tuple[str, ...] = tuple(n for n, d in DATAFLOWS.items() if d.skips_masked_tiles)


def dataflow(name: str) -> Dataflow:
    """The registered dataflow ``name``; ``SpecError`` naming the allowed ones otherwise."""
    try:
        return DATAFLOWS[name]
    except KeyError:
        raise SpecError(f"unknown attention dataflow {name!r}; allowed: {', '.join(DATAFLOWS)}") from None


__all__ = ["DATAFLOWS", "DESIGNS", "ENERGY_KIND", "PAPER_DESIGNS", "SKIPS_MASKED_TILES", "Dataflow", "Stage",
           "StageContext", "dataflow"]
