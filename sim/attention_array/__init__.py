"""Cycle-level model of FuseMax-style attention accelerators (2D + 1D PE arrays, buffer, DRAM).

Modules: ``arch`` (spec, presets, energy table), ``pipeline`` (in-order job pipeline, event-driven
and fast path), ``model`` (bindings, per-tile work from the cascade, simulation), ``reproduce``
(FuseMax's evaluation grid and plots), ``paper`` (the FuseMax artifact's analytical accounting).
See docs/attention_array.md.
"""
from sim.attention_array import paper
from sim.attention_array.arch import (FLAT, FUSEMAX, PRESETS, ArraySpec, EnergyTable,
                                      load_energy_table)
from sim.attention_array.model import (BINDINGS, DESIGNS, ArrayResult, choose_mapping, layer_for,
                                       simulate_attention, simulate_model)

__all__ = ["BINDINGS", "DESIGNS", "FLAT", "FUSEMAX", "PRESETS", "ArrayResult", "ArraySpec", "EnergyTable",
           "choose_mapping", "layer_for", "load_energy_table", "simulate_attention",
           "paper", "simulate_model"]
