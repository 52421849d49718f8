"""``map(cascade, arch, strategy, mode) -> sim.contract.Mapping`` for the FuseMax-style array.

``strategy`` is the attention dataflow (``sim.attention_array.dataflows.DESIGNS``: unfused, flat,
flashattention2, fusemax); ``mode`` the accounting: ``cycle`` (the cycle-level model, with the
plan of ``array.best_plan`` per distinct layer shape) or ``paper`` (the FuseMax artifact's
accounting: designs with a paper model, bidirectional prefill only — the query length must equal
the key length and be a multiple of the array's columns; a causal mask is ignored).

Per Einsum: attention Einsums run on the array the design binds their name to (its own cascade's
names; an Einsum of another softmax form runs on the 2D array if it has MACs, else the 1D array)
in the fusion group ``L<i>.attention``; the layer's other Einsums on the 2D array (with MACs) or
the 1D array; Einsums outside the Transformer layers (embeddings, final norm, LM head) on ``none``
(not modeled). The linear layers' weights stream once per batch entry unless the step appends to
a KV cache (a decode step: the batch shares one weight read).
"""
from __future__ import annotations

from dataclasses import replace

from mappers.attention.array import best_plan, layer_of
from mappers.attention.cascade import ATTENTION_GROUP, attention_shapes
from sim.attention_array.arch import ArraySpec
from sim.attention_array.dataflows import dataflow
from sim.attention_array.paper import check_paper
from sim.attention_array.plan import ArrayPlan, AttentionShape, PaperPlan
from sim.contract import EinsumMapping, Mapping
from workloads.errors import SpecError

MODES = ("cycle", "paper")
KV_CACHE_GROUP = "kv_cache"


def _unit(einsum, stats, design: str) -> str:
    if einsum.layer is None:
        return "none"
    df = dataflow(design)
    short = einsum.name.split(".", 1)[-1]
    if einsum.group == ATTENTION_GROUP and short in df.einsums:
        return "2d-array" if short in df.on_2d else "1d-array"
    return "2d-array" if stats.macs else "1d-array"


def _layer_plan(shape: AttentionShape, design: str, arch: ArraySpec, mode: str):
    if mode == "paper":
        if shape.n_q != shape.n_kv:
            raise SpecError("attention paper mode models prefill without a KV cache (query length = key length), "
                            f"got {shape.n_q} queries over {shape.n_kv} keys")
        check_paper(design, shape.n_q, arch)
        return PaperPlan(design, shape)
    return best_plan(design, layer_of(shape, arch.bytes_per_element), arch, shape.masked_scores)


def map_cascade(cascade, arch: ArraySpec, strategy: str, mode: str = "cycle", *,
                causal: bool | None = None) -> Mapping:
    """Map every layer of ``cascade`` with dataflow ``strategy``; ``causal`` overrides whether the
    mapping may skip masked tiles (the cascade's mask, and so its work per score, stays)."""
    if mode not in MODES:
        raise SpecError(f"unknown attention mode {mode!r}; allowed: {', '.join(MODES)}")
    dataflow(strategy)
    shapes = attention_shapes(cascade)
    if causal is not None:
        shapes = {i: replace(s, causal=causal) for i, s in shapes.items()}
    plans: dict = {}  # layers of one shape share one plan
    for shape in shapes.values():
        if shape not in plans:
            plans[shape] = _layer_plan(shape, strategy, arch, mode)
    layers = {i: plans[s] for i, s in shapes.items()}
    einsums = tuple(EinsumMapping(e.name, _unit(e, s, strategy),
                                  fusion_group=f"L{e.layer}.attention" if e.group == ATTENTION_GROUP
                                  and e.layer is not None else "")
                    for e, s in zip(cascade.einsums, cascade.stats))
    decode = any(e.group == KV_CACHE_GROUP for e in cascade.einsums)
    batch = next(iter(shapes.values())).batch
    plan = ArrayPlan(strategy, mode, layers, weight_reads=1 if decode else batch)
    return Mapping(family="attention", strategy=strategy, cascade=cascade, einsums=einsums, mode=mode, plan=plan)
