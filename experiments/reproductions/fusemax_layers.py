"""One Transformer layer of a named model on the FuseMax-style array, as the FuseMax evaluation
reports it: attention (cycles, energy, utilization, traffic) plus the layer's linear layers.

Every function lowers the model (``workloads.lower``, one layer, no LM head), maps it with
``mappers.attention.map`` and simulates it with ``sim.attention_array`` — the code path of the
``attention`` family — and returns the attention layer's ``sim.attention_array.ArrayResult`` (cycle
mode) or ``paper.PaperResult`` (paper mode) with ``linear_cycles`` / ``linear_energy_pj`` set to
layer 0's other Einsums (``end_to_end_*`` = the layer).
"""
from __future__ import annotations

from dataclasses import replace

from mappers.attention import AttentionLayer, attention_shapes, best_plan, map_cascade
from mappers.attention.array import layer_of
from mappers.attention.mapping import AttentionMapping
from sim.attention_array import FUSEMAX, PRESETS, ArrayResult, ArraySpec, EnergyTable, simulate
from sim.attention_array import simulate_attention as simulate_plan
from sim.attention_array.arch import load_energy_table
from sim.attention_array.dataflows import dataflow
from sim.attention_array.paper import PaperResult
from sim.attention_array.paper import paper_attention as paper_shape_attention
from workloads import lower
from workloads.models import get_model


def _linear(mapping, arch: ArraySpec, energy: EnergyTable) -> tuple[float, float]:
    """Cycles and pJ of layer 0's Einsums outside attention."""
    rows = simulate(mapping, arch, energy).rows
    lin = rows[(rows["layer"] == 0) & (rows["group"] != "attention")]
    return float(lin["cycles"].sum()), float(lin["energy_j"].sum()) * 1e12


def _prefill(model: str, seq_len: int, batch: int, design: str):
    return lower(model, "prefill", batch, seq_len, attention=dataflow(design).variant, layers=1, lm_head="none")


def layer_for(model: str, seq_len: int, batch: int = 64, bytes_per_element: int = 2) -> AttentionLayer:
    """The attention layer of a model's prefill, bidirectional (FuseMax's workloads use batch 64)."""
    shape = attention_shapes(lower(model, "prefill", batch, seq_len, layers=1, lm_head="none"))[0]
    return layer_of(replace(shape, causal=False), bytes_per_element)


def simulate_attention(design: str, layer: AttentionLayer, arch: ArraySpec | None = None, *, model: str,
                       energy: EnergyTable | None = None, mapping: AttentionMapping | None = None) -> ArrayResult:
    """One attention layer; ``model`` says whether the scores carry a causal mask (a decoder's), which
    the work per score counts. ``arch`` defaults to the design's iso-area preset."""
    arch = arch or PRESETS.get(design, FUSEMAX)
    masked = get_model(model).kind == "decoder"
    return simulate_plan(best_plan(design, layer, arch, masked, mapping=mapping, energy=energy), arch, energy)


def _with_linear(mapping, arch: ArraySpec, energy: EnergyTable) -> ArrayResult:
    res = simulate_plan(mapping.plan.layers[0], arch, energy)
    cycles, pj = _linear(mapping, arch, energy)
    return replace(res, linear_cycles=cycles, linear_energy_pj=pj)


def simulate_model(design: str, model: str, seq_len: int, *, batch: int = 64, arch: ArraySpec | None = None,
                   energy: EnergyTable | None = None, causal: bool = False) -> ArrayResult:
    """A prefill layer (attention + linear layers); ``causal``: masked tiles may be skipped (a
    decoder's prefill; the mask's work per score is the model's either way). ``arch`` defaults to
    the design's iso-area preset (``arch.PRESETS``)."""
    arch = arch or PRESETS.get(design, FUSEMAX)
    energy = energy or load_energy_table()
    mapping = map_cascade(_prefill(model, seq_len, batch, design), arch, design, "cycle", causal=causal)
    return _with_linear(mapping, arch, energy)


def simulate_decode(design: str, model: str, kv_len: int, *, new_tokens: int = 1, batch: int = 1,
                    arch: ArraySpec | None = None, energy: EnergyTable | None = None) -> ArrayResult:
    """One decode step: ``new_tokens`` query rows per sequence over ``kv_len`` cached plus the new
    keys, and the step's linear layers (weights read once for the batch)."""
    arch = arch or PRESETS.get(design, FUSEMAX)
    energy = energy or load_energy_table()
    cascade = lower(model, "decode", batch, kv_len + new_tokens, kv_len=kv_len, new_tokens=new_tokens,
                    attention=dataflow(design).variant, layers=1, lm_head="none")
    return _with_linear(map_cascade(cascade, arch, design, "cycle"), arch, energy)


def paper_attention(design: str, model: str, seq_len: int, *, batch: int = 64, arch: ArraySpec = FUSEMAX,
                    energy: EnergyTable | None = None) -> PaperResult:
    """One attention layer under the FuseMax artifact's accounting."""
    shape = attention_shapes(_prefill(model, seq_len, batch, design))[0]
    return paper_shape_attention(design, shape, arch, energy)


def paper_model(design: str, model: str, seq_len: int, *, batch: int = 64, arch: ArraySpec = FUSEMAX,
                energy: EnergyTable | None = None) -> PaperResult:
    """Attention plus the layer's linear layers (the cascade's weight-reading Einsums), paper mode."""
    energy = energy or load_energy_table()
    mapping = map_cascade(_prefill(model, seq_len, batch, design), arch, design, "paper")
    res = paper_shape_attention(design, mapping.plan.layers[0].shape, arch, energy)
    cycles, pj = _linear(mapping, arch, energy)
    return replace(res, linear_cycles=cycles, linear_energy_pj=pj)
