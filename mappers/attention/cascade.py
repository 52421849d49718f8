"""Attention layers as the lowered cascade states them: the shape of each layer's QK and AV Einsums.

``workloads.attention`` lowers attention with Q[B,P,G,J,E] (batch, query positions, K/V heads,
query heads per K/V head, head dimension) and K[B,M,G,E], V[B,M,G,F]. Per Transformer layer this
module finds the QK Einsum (the layer's first attention Einsum with MACs), reads its query access
for B, P, G, J, its reduced rank for the head dimension E, and follows its key operand through the
1-pass cascade's partition Einsum (BK, no operations) to the K (or KV-cache) tensor, whose
position rank gives the key length. The scores carry a causal mask when QK applies a ``mask``
whose bound depends on the query position (a decoder's prefill; a decode step's last query row
sees every key, so its cascade has none). GQA, any zoo model, prefill and decode follow.
"""
from __future__ import annotations

from sim.attention_array.plan import AttentionShape
from workloads.errors import SpecError

ATTENTION_GROUP = "attention"


def _key_tensor(cascade, name: str) -> str:
    """The tensor a key operand comes from: through partition Einsums (one input, no operations)."""
    producer = cascade.producer
    stats = {s.name: s for s in cascade.stats}
    by_name = cascade.by_name
    while name in producer:
        e = by_name[producer[name]]
        if e.group != ATTENTION_GROUP or stats[e.name].total_ops or len(e.inputs) != 1:
            break
        name = e.inputs[0].tensor
    return name


def _is_causal(qk, query_rank: str) -> bool:
    return any(u.kind == "mask" and query_rank in u.bound.ranks for u in qk.post)


def shape_of(cascade, qk) -> AttentionShape:
    """The attention shape of one layer from its QK Einsum."""
    q, k = qk.inputs[0], qk.inputs[1]
    if len(q.ranks) != 5 or len(qk.reduced_ranks) != 1:
        raise SpecError(f"{qk.name}: expected Q[B,P,G,J,E] and one reduced (head) rank, got {q} "
                        f"reduced {qk.reduced_ranks}")
    b, p, g, j, _ = q.ranks
    size = cascade.rank_sizes
    key = cascade.tensors[_key_tensor(cascade, k.tensor)]
    position = [r for r in key.ranks if r not in (b, g, qk.reduced_ranks[0])]
    if len(position) != 1:
        raise SpecError(f"{qk.name}: key tensor {key.name}{list(key.ranks)} has no single position rank")
    return AttentionShape(batch=size[b], heads=size[g] * size[j], kv_heads=size[g],
                          head_dim=size[qk.reduced_ranks[0]], n_q=size[p], n_kv=key.size_of(position[0]),
                          causal=_is_causal(qk, p), masked_scores=_is_causal(qk, p))


def attention_shapes(cascade) -> dict[int, AttentionShape]:
    """The attention shape of every Transformer layer of ``cascade``, by layer index."""
    out: dict[int, AttentionShape] = {}
    for e, s in zip(cascade.einsums, cascade.stats):
        if e.group == ATTENTION_GROUP and e.layer is not None and s.macs and e.layer not in out:
            out[e.layer] = shape_of(cascade, e)
    if not out:
        raise SpecError(f"cascade {cascade.name} has no attention layer (no Einsum of group 'attention' with MACs)")
    return out
