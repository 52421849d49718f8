"""Concrete off-chip traffic lower bounds for one attention layer, with explicit constants.

Saha & Ye, "The I/O Complexity of Attention, or How Optimal is Flash Attention?", ICML 2024
(PMLR 235, arXiv:2402.07443), abstract and Sec. 1: with a cache of M words, exact attention on
N × d inputs needs Θ(N²d²/M) I/Os for M ≥ d², matched by FlashAttention's N²d²/M upper bound,
and Θ(N²d/√M) for M < d² (the matrix-multiplication regime); the bounds are asymptotic. The trivial
bound reads Q, K, V and writes O once. Here each is made concrete (bytes, explicit constants):

``trivial``
    b·(heads·2·n_q·d + kv_heads·2·n_kv·d) per batch: every input element read once, every output
    element written once (K/V of a GQA group counted once).

``pair`` (large-cache term, constant 4)
    instances · 4·d²·b²·P / M, with P the (query, key) pairs that must be scored (all of them, or
    the unmasked ones under a causal mask) and M the buffer in bytes. Argument (Hong & Kung's
    red-blue pebbling, specialized to schedules that keep whole rows on chip — every mapping in this
    package): pair (i, j) is processed while the query unit (q_i with its output accumulator o_i)
    and the key unit (k_j with v_j) are both on chip; each unit is 2·d·b bytes, so at most
    R = M/(2·d·b) units are resident. Charge each pair to the later of the two load events that
    made its units co-resident: one event covers at most R pairs and moves at least 2·d·b bytes
    (a key unit: k_j and v_j; a query unit: q_i on load plus o_i on its eventual write-back), so
    traffic ≥ 2·d·b·P/R = 4·d²·b²·P/M.

``matmul`` (small-cache term, Saha & Ye's M < d² regime)
    instances · b · max(0, 2·P·d/√M_w − 2·M_w), M_w = M/b words: the tight bound for the P·d
    multiplications of Q·Kᵀ by Smith, Lowery, Langou & van de Geijn, "A Tight I/O Lower Bound for
    Matrix Multiplication" (arXiv:1702.02017, Thm. 1: 2mnk/√S − 2S for S words of fast memory).
    It guards the regime where splitting the head dimension beats whole-row tiling.

``lower_bound = max(trivial, min(pair, matmul))``. The pair argument is a theorem for whole-row
schedules; for schedules that split d the min() falls back to the matmul term, so the reported bound
never exceeds what Saha & Ye show achievable. The property test checks that no mapping of any design,
tile size or buffer falls below it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from mappers.attention.layer import AttentionLayer
from workloads.errors import SpecError


@dataclass(frozen=True)
class TrafficBound:
    """The three concrete terms (bytes) and the resulting lower bound."""

    trivial_bytes: int
    pair_bytes: float
    matmul_bytes: float

    @property
    def lower_bound_bytes(self) -> float:
        return max(float(self.trivial_bytes), min(self.pair_bytes, self.matmul_bytes))

    @property
    def regime(self) -> str:
        """Which term sets the bound."""
        if self.trivial_bytes >= min(self.pair_bytes, self.matmul_bytes):
            return "trivial"
        return "pair" if self.pair_bytes <= self.matmul_bytes else "matmul"


def traffic_bound(layer: AttentionLayer, buffer_bytes: int) -> TrafficBound:
    """Concrete lower bound on off-chip bytes for ``layer`` with an on-chip buffer of ``buffer_bytes``."""
    if not isinstance(buffer_bytes, int) or buffer_bytes < 1:
        raise SpecError(f"buffer_bytes must be a positive integer, got {buffer_bytes!r}")
    d, b = layer.head_dim, layer.bytes_per_element
    trivial = layer.batch * b * d * (layer.heads * 2 * layer.n_q + layer.n_kv_heads * 2 * layer.n_kv)
    pairs = layer.pairs_per_head() * layer.instances
    pair = 4.0 * d * d * b * b * pairs / buffer_bytes
    words = buffer_bytes / b
    matmul = b * max(0.0, 2.0 * pairs * d / math.sqrt(words) - 2.0 * words * layer.instances)
    return TrafficBound(trivial, pair, matmul)
