"""Operations per (query, key) pair of each Einsum of an attention cascade, by operator kind.

The work a design does per tile comes from the extended-Einsum cascade of its softmax variant
(``workloads.attention.add_attention``: 3-pass for unfused and FLAT, 1-pass for FlashAttention-2
and FuseMax), built here at the layer's shape (one batch entry; heads, K/V heads, head dimension,
``n`` query and ``n`` key positions, K/V blocks of ``block`` keys). Each Einsum's operation count
divided by the (query, key) pairs of its heads is its rate, so a tile of ``p`` pairs costs
``rate × p`` operations on the array the design binds that Einsum to. A multiply–accumulate is
the kind ``mac`` (its multiply and add are taken out of ``mul`` and ``add``).

``masked``: the scores carry a causal mask (a decoder's attention), whose compare-and-select is
one ``mask`` operation per score; the cascade counts masked positions densely (the tile skipping
of FlashAttention-2 and FuseMax is the mapping's, applied to the pairs, not to the rates).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from workloads.attention import add_attention
from workloads.ir import CascadeBuilder


def op_kinds(stats) -> dict[str, float]:
    """An Einsum's operations by kind, a MAC counted once as ``mac`` (not as a ``mul`` and an ``add``)."""
    ops = dict(stats.ops)
    if stats.macs:
        ops["mul"] = ops.get("mul", 0) - stats.macs
        ops["add"] = max(0, ops.get("add", 0) - stats.macs)
        ops["mac"] = stats.macs
    return {k: v for k, v in ops.items() if v > 0}


@dataclass(frozen=True)
class PairRates:
    """Operations per (query, key) pair of each attention Einsum (short name: QK, GM, SLN, …)."""

    per_pair: dict[str, dict[str, float]]

    def kinds(self, names, pairs: float) -> dict[str, float]:
        """Operations by kind of the Einsums ``names`` over ``pairs`` (query, key) pairs."""
        out: dict[str, float] = {}
        for name in names:
            for kind, rate in self.per_pair.get(name, {}).items():
                out[kind] = out.get(kind, 0.0) + rate * pairs
        return out


@lru_cache(maxsize=256)
def pair_rates(variant: str, heads: int, kv_heads: int, head_dim: int, n: int, masked: bool,
               block: int) -> PairRates:
    """Per-pair rates of the ``variant`` attention cascade of one batch entry at ``n`` positions."""
    b = CascadeBuilder("attention-rates")
    for rank, size in (("B", 1), ("P", n), ("M", n), ("G", kv_heads), ("J", heads // kv_heads),
                       ("E", head_dim), ("F", head_dim)):
        b.rank(rank, size)
    b.tensor("Q", "B,P,G,J,E", role="input")
    b.tensor("K", "B,M,G,E", role="input")
    b.tensor("V", "B,M,G,F", role="input")
    add_attention(b, "", variant=variant, q="Q", k="K", v="V", causal=masked, block=min(block, n))
    cascade = b.build()
    pairs = heads * n * n
    return PairRates({e.name: {k: v / pairs for k, v in op_kinds(s).items()}
                      for e, s in zip(cascade.einsums, cascade.stats)})
