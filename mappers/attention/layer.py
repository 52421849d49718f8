"""One attention layer: the shape the loop nests, traffic counters and bounds work on.

Models one multi-head (optionally grouped-query, GQA) attention layer: per (batch, query head),
S = Q·Kᵀ (n_q × n_kv, inner rank head_dim), softmax over the kv rank, O = P·V. The query heads
are split into ``kv_heads`` groups that share one K and one V. With ``causal`` set, query row i
attends to key rows j ≤ i + (n_kv − n_q) (bottom-right aligned mask, the FlashAttention ≥ 2.1
convention, so a decode step with n_q = 1 sees every key).

For a lowered model the shape is read from the cascade's QK and AV Einsums
(``mappers.attention.cascade.attention_shapes``, then ``array.layer_of``); the spec can also be
written by hand for studies of one layer (``einspace attention --seq-len …``).
"""
from __future__ import annotations

from dataclasses import dataclass

from workloads.errors import SpecError


@dataclass(frozen=True)
class AttentionLayer:
    """Shape and element sizes of one attention layer.

    ``bytes_per_element`` is the storage size of Q, K, V, O, S and P; ``stat_bytes_per_element``
    that of the per-row softmax statistics (running max m and running sum ℓ), fp32 by default as in
    FlashAttention (Dao et al., NeurIPS 2022, Alg. 1 keeps ℓ, m in HBM in fp32).
    """

    n_q: int
    n_kv: int
    head_dim: int
    batch: int = 1
    heads: int = 1
    kv_heads: int | None = None
    bytes_per_element: int = 2
    stat_bytes_per_element: int = 4
    causal: bool = False

    def __post_init__(self) -> None:
        for name in ("n_q", "n_kv", "head_dim", "batch", "heads", "bytes_per_element",
                     "stat_bytes_per_element"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SpecError(f"AttentionLayer.{name} must be a positive integer, got {value!r}")
        kv = self.heads if self.kv_heads is None else self.kv_heads
        if not isinstance(kv, int) or isinstance(kv, bool) or kv < 1 or self.heads % kv:
            raise SpecError(
                f"AttentionLayer.kv_heads must be a positive divisor of heads={self.heads}, "
                f"got {self.kv_heads!r}")
        if self.causal and self.n_q > self.n_kv:
            raise SpecError(
                f"causal attention needs n_q <= n_kv (got n_q={self.n_q}, n_kv={self.n_kv}): "
                "query rows before the first key would attend to nothing")

    @property
    def n_kv_heads(self) -> int:
        """Number of K/V heads (equals ``heads`` unless GQA/MQA)."""
        return self.heads if self.kv_heads is None else self.kv_heads

    @property
    def group_size(self) -> int:
        """Query heads sharing one K/V head."""
        return self.heads // self.n_kv_heads

    @property
    def instances(self) -> int:
        """Independent (batch, query head) problems, each one loop nest."""
        return self.batch * self.heads

    @property
    def causal_offset(self) -> int:
        """Query row i may attend key rows j <= i + causal_offset."""
        return self.n_kv - self.n_q

    def pairs_per_head(self) -> int:
        """(query, key) pairs whose score is needed for one head: all, or the unmasked ones."""
        if not self.causal:
            return self.n_q * self.n_kv
        off = self.causal_offset
        return sum_unmasked(0, self.n_q, 0, self.n_kv, off)

    def tile_fully_masked(self, q_lo: int, q_hi: int, kv_lo: int, kv_hi: int) -> bool:
        """True when every pair of the tile [q_lo, q_hi) × [kv_lo, kv_hi) is masked out."""
        if not self.causal:
            return False
        return q_hi - 1 + self.causal_offset < kv_lo


def sum_unmasked(q_lo: int, q_hi: int, kv_lo: int, kv_hi: int, offset: int) -> int:
    """Unmasked pairs of the causal tile [q_lo, q_hi) × [kv_lo, kv_hi): Σ_i |{j: j ≤ i+offset}|."""
    total = 0
    # row i sees clip(i + offset + 1 − kv_lo, 0, kv_hi − kv_lo) keys: rows in [i0, i1) see part
    # of the tile, rows from max(i0, i1) on see all of it
    i0 = max(q_lo, kv_lo - offset)
    i1 = min(q_hi, kv_hi - offset - 1)
    if i0 < i1:
        a = i0 + offset + 1 - kv_lo
        b = i1 - 1 + offset + 1 - kv_lo
        total += (a + b) * (i1 - i0) // 2
    full_from = max(i0, i1, q_lo)
    if full_from < q_hi:
        total += (q_hi - full_from) * (kv_hi - kv_lo)
    return total
