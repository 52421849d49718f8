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
    2·d·b·P / (R − 1), R = ⌊M / (2·d·b)⌋ ≥ 2, with P the (query, key) pairs that must be scored
    over all instances (all of them, or the unmasked ones under a causal mask) and M the buffer in
    bytes; ≈ 4·d²·b²·P/M. Argument (Hong & Kung's red-blue pebbling, specialized to schedules that
    keep whole rows on chip — every mapping in this package): pair (i, j) is processed while the
    query unit (q_i with its output accumulator o_i) and the key unit (k_j with v_j) are both on
    chip; each unit is 2·d·b bytes, so at most R units are resident. Charge each pair to the later
    of the two load events that made its units co-resident: the loaded unit takes one of the R
    places, so one event covers at most R − 1 pairs, and it moves at least 2·d·b bytes (a key unit:
    k_j and v_j; a query unit: q_i on load plus o_i on its eventual write-back), so
    traffic ≥ 2·d·b·P/(R − 1). (With R < 2 no whole-row schedule exists; the term is then
    4·d²·b²·P/M, the same count with M/(2·d·b) places.)

``matmul`` (small-cache term, Saha & Ye's M < d² regime)
    instances · b · max(0, 2·P·d/√M_w − 2·M_w), M_w = M/b words: the tight bound for the P·d
    multiplications of Q·Kᵀ by Smith, Lowery, Langou & van de Geijn, "A Tight I/O Lower Bound for
    Matrix Multiplication" (arXiv:1702.02017, Thm. 1: 2mnk/√S − 2S for S words of fast memory).
    It guards the regime where splitting the head dimension beats whole-row tiling.

``reload`` (crossover term, the single-interval lemma)
    batch · kv_heads · 2·d·b · max(0, min(|A|, |B|) − R + 1), R = ⌊M / (2·d·b)⌋, over the largest
    complete block A × B of needed pairs of one K/V group (A: query rows of the group's heads, B: key
    rows; all pairs when not causal). Lemma: call a unit's maximal on-chip stretch an *interval*; let
    A1 ⊆ A, B1 ⊆ B be the units with exactly one interval. If both are nonempty, min(|A1|, |B1|) ≤ R − 1.
    Proof: let s be the latest start and e the earliest end among A1's intervals. If s ≤ e, every
    A1 interval contains [s, e]; a B1 interval must meet the A1 interval starting at s and the one
    ending at e, so it overlaps [s, e], and at that moment |A1| + 1 units are resident: |A1| ≤ R − 1.
    If s > e, every B1 interval starts ≤ e and ends ≥ s, so all of B1 and the query whose interval
    ends at e are resident at e: |B1| ≤ R − 1. Hence at least min(|A|, |B|) − R + 1 units of the
    block have a second interval, and every interval after a unit's first moves ≥ 2·d·b bytes that
    ``trivial`` does not count (a key: k_j and v_j again; a query: q_j again and o_j written again;
    an interval that processes no pair can be dropped from any schedule). Only the first reads and
    writes are in ``trivial``, so trivial + reload is a bound for whole-row schedules.

Which bound is reported follows Saha & Ye's two regimes (M_w = M/b words):

* **M_w ≥ d²** (their large-cache regime, where FlashAttention's whole-row tiling is optimal up to a
  constant factor): ``lower_bound = max(trivial, pair, trivial + reload)``. The pair and reload
  arguments are theorems for whole-row schedules (a query's q and o rows resident together while
  its pairs are processed, a key's k and v rows likewise) — FlashAttention-1/-2, FLAT and FuseMax
  are such schedules. Unfused, once its scores spill, moves S and P out and back (≥ 4·P·b bytes)
  plus the K rows of its Q·Kᵀ pass (one K row read serves at most M/(d·b) query rows:
  ≥ P·d²·b²/M); with R = α·d and α ≥ 1/2 (M_w ≥ d²) that is ≥ (4 + 1/(2α))·P·b against the pair
  term's ≈ (2/α)·P·b, so it is covered too (exactly for d ≥ 10, where the R − 1 correction fits
  in the margin; smaller d by the property tests). The constants are not proven for
  schedules that split d; Saha & Ye's theorem only says those cannot win more than a constant
  factor here, and the splits worked out in docs/attention.md (two passes, O in column chunks,
  d-split score tiles) all move more than the whole-row optimum when M_w ≥ d².
* **M_w < d²** (their small-cache regime, where their better algorithm splits d):
  ``lower_bound = max(trivial, min(max(pair, trivial + reload), matmul))`` — the bound drops to the
  matrix-multiplication term, below what whole-row schedules can reach.

``matmul_bytes`` is reported in both regimes. The property test checks that no mapping of any
design, tile size or buffer falls below the reported bound, and an exhaustive search of the
unit-interval game on tiny shapes checks the lemma itself.
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
    reload_bytes: int = 0
    large_cache: bool = True
    """M ≥ d² words (Saha & Ye's large-cache regime): the whole-row terms are the bound."""

    @property
    def whole_row_bytes(self) -> float:
        """The bound for whole-row schedules: max(pair, trivial + reload)."""
        return max(self.pair_bytes, float(self.trivial_bytes + self.reload_bytes))

    @property
    def _quadratic_bytes(self) -> float:
        if self.large_cache:
            return self.whole_row_bytes
        return min(self.whole_row_bytes, self.matmul_bytes)

    @property
    def lower_bound_bytes(self) -> float:
        return max(float(self.trivial_bytes), self._quadratic_bytes)

    @property
    def regime(self) -> str:
        """Which term sets the bound: trivial, reload (trivial + reload), pair or matmul."""
        if self.trivial_bytes >= self._quadratic_bytes:
            return "trivial"
        if self._quadratic_bytes < self.whole_row_bytes:
            return "matmul"
        return "pair" if self.pair_bytes >= self.trivial_bytes + self.reload_bytes else "reload"


def complete_block(layer: AttentionLayer) -> tuple[int, int]:
    """(|A|, |B|) of the complete block of needed pairs of one K/V group maximizing min(|A|, |B|):
    query rows of all the group's heads × key rows. Causal (bottom-right aligned): rows i ≥ i0 of
    every head see keys 0 … i0 + n_kv − n_q."""
    j = layer.group_size
    if not layer.causal:
        return j * layer.n_q, layer.n_kv
    off = layer.causal_offset
    pivot = (j * layer.n_q - off - 1) // (j + 1)
    best = (0, 0)
    for i0 in {0, layer.n_q - 1, min(max(pivot, 0), layer.n_q - 1),
               min(max(pivot + 1, 0), layer.n_q - 1)}:
        block = (j * (layer.n_q - i0), i0 + off + 1)
        if min(block) > min(best):
            best = block
    return best


def resident_units(layer: AttentionLayer, buffer_bytes: int) -> int:
    """R: how many units — a query's (q, o) rows or a key's (k, v) rows, 2·d·b bytes — fit on chip."""
    return buffer_bytes // (2 * layer.head_dim * layer.bytes_per_element)


def reload_units(layer: AttentionLayer, buffer_bytes: int) -> int:
    """Second intervals forced by the single-interval lemma in one K/V group (units of 2·d·b bytes)."""
    units = max(1, resident_units(layer, buffer_bytes))
    return max(0, min(complete_block(layer)) - units + 1)


def traffic_bound(layer: AttentionLayer, buffer_bytes: int) -> TrafficBound:
    """Concrete lower bound on off-chip bytes for ``layer`` with an on-chip buffer of ``buffer_bytes``."""
    if not isinstance(buffer_bytes, int) or buffer_bytes < 1:
        raise SpecError(f"buffer_bytes must be a positive integer, got {buffer_bytes!r}")
    d, b = layer.head_dim, layer.bytes_per_element
    trivial = layer.batch * b * d * (layer.heads * 2 * layer.n_q + layer.n_kv_heads * 2 * layer.n_kv)
    pairs = layer.pairs_per_head() * layer.instances
    units = resident_units(layer, buffer_bytes)
    pair = 2.0 * d * b * pairs / (units - 1) if units >= 2 else 4.0 * d * d * b * b * pairs / buffer_bytes
    words = buffer_bytes / b
    matmul = b * max(0.0, 2.0 * pairs * d / math.sqrt(words) - 2.0 * words * layer.instances)
    reload = layer.batch * layer.n_kv_heads * 2 * d * b * reload_units(layer, buffer_bytes)
    return TrafficBound(trivial, pair, matmul, reload, large_cache=words >= d * d)
