"""Cycle-level model of FuseMax-style attention accelerators (2D + 1D PE arrays, buffer, DRAM).

``simulate(mapping, arch) -> sim.contract.Result`` runs a whole cascade (``simulate.py``); the
mapping comes from ``mappers.attention.map``. Modules: ``arch`` (spec, presets, energy table),
``plan`` (what the simulator accepts from the mapper), ``dataflows`` (one module per dataflow:
cascade, binding, stages; the one list of designs), ``rates`` (work per (query, key) pair from the
cascade), ``attention`` (one attention layer through the pipeline), ``schedules`` (job orders),
``pipeline`` (in-order job pipeline, event-driven and fast path), ``linear`` (the layers' other
Einsums), ``paper`` (the FuseMax artifact's analytical accounting), ``area``.
See docs/attention_array.md.
"""
from sim.attention_array import paper
from sim.attention_array.arch import FLAT, FUSEMAX, PRESETS, ArraySpec, EnergyTable, load_energy_table
from sim.attention_array.attention import ArrayResult, simulate_attention
from sim.attention_array.dataflows import DATAFLOWS, DESIGNS, PAPER_DESIGNS, SKIPS_MASKED_TILES
from sim.attention_array.simulate import simulate

__all__ = ["DATAFLOWS", "DESIGNS", "FLAT", "FUSEMAX", "PAPER_DESIGNS", "PRESETS", "SKIPS_MASKED_TILES", "ArrayResult",
           "ArraySpec", "EnergyTable", "load_energy_table", "paper", "simulate", "simulate_attention"]
