"""Tile-size and loop-order search for one attention layer under a buffer constraint.

The legal space of a design is every (q_tile, kv_tile) whose footprint fits the buffer. Traffic is
non-increasing in the tile that the design keeps resident across the inner loop (q_tile for the
q-outer designs — FlashAttention-2, FuseMax, FLAT, unfused — and kv_tile for FlashAttention-1) and
independent of the streamed one except through the footprint, ragged last tiles and causal tile
skipping; so for each value of the streamed tile (powers of two from ``min_tile``, default 1 row,
and the whole rank) only the largest fitting resident tile and the smallest tile giving the same
tile count are evaluated (the pruning; ``test_attn_search_matches_exhaustive`` checks it against
enumerating every legal pair). Candidates are scored
with the closed forms of ``closed_form`` (proven equal to the exact counter by test); the winner is
rebuilt as an explicit loop nest whose traffic the caller can count exactly.

For FlashAttention-2 and FuseMax (whole sweeps: not causal, or no tile skipping) the search
also covers the loop-order variant that keeps a K/V tail on chip and runs every second sweep
backwards (``designs.build(..., kv_keep, serpentine)``): for every K/V tile, the query tiles
ceil(n_q / t) for the fewest sweeps t that fit and the next 63 counts, and the largest query tile
for which all of K and V stay on chip, each with the largest tail that fits (traffic never grows
with the tail). Exhaustive enumeration
of (Br, Bc, tail, order) on small shapes checks this pruning too.

With grouped-query attention (J = heads / kv_heads > 1), FlashAttention-1/-2 and FuseMax also get
GQA head packing (``designs.build(..., pack_heads=True)``): the query tiles run over the J·n_q
stacked rows of one K/V group's heads, so one K/V sweep serves rows of several heads. Its
candidates are those above (tiles and kept-tail orders) computed for a q rank of J·n_q rows;
on a tie the unpacked mapping is kept.

Unfused, when its scores spill, also gets the row-block softmax (``designs.unfused(...,
softmax_rows)``: the largest block of whole score rows that fits) beside every tiling of its
QK and PV passes.

Objectives: ``traffic`` (off-chip bytes) or ``latency``: max(traffic / bandwidth, flops / peak), the
roofline proxy, with flops = 4·d per computed (query, key) pair (Q·Kᵀ and P·V, a multiply and an add
each; softmax work not counted).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import NamedTuple

from mappers.attention.bound import TrafficBound, traffic_bound
from mappers.attention.closed_form import closed_form_traffic
from mappers.attention.designs import (
    DESIGNS,
    ORDER_VARIANTS,
    PACKING_DESIGNS,
    build,
    unfused,
    unfused_on_chip_bytes,
)
from mappers.attention.layer import AttentionLayer
from mappers.attention.loopnest import TrafficCount
from mappers.attention.mapping import AttentionMapping
from workloads.errors import SpecError

_HUGE_BYTES = 1 << 62
_Q_OUTER = ("unfused", "flat", "flashattention2", "fusemax")


@dataclass(frozen=True)
class Objective:
    """What the search minimizes; bandwidth and peak are used only by ``latency``."""

    kind: str = "traffic"
    bandwidth_bytes_per_s: float = 1.0e12
    peak_flops_per_s: float = 1.0e15

    def __post_init__(self) -> None:
        if self.kind not in ("traffic", "latency"):
            raise SpecError(f"objective must be 'traffic' or 'latency', got {self.kind!r}")
        if self.bandwidth_bytes_per_s <= 0 or self.peak_flops_per_s <= 0:
            raise SpecError("bandwidth and peak must be positive")

    def score(self, traffic: TrafficCount, layer: AttentionLayer) -> float:
        if self.kind == "traffic":
            return float(traffic.total_bytes)
        flops = 4.0 * layer.head_dim * traffic.computed_pairs
        return max(traffic.total_bytes / self.bandwidth_bytes_per_s, flops / self.peak_flops_per_s)


@dataclass(frozen=True)
class SearchResult:
    """The best mapping of one design, its closed-form traffic, the bound and the search cost."""

    mapping: AttentionMapping
    traffic: TrafficCount
    bound: TrafficBound
    score: float
    candidates: int
    seconds: float

    @property
    def ratio_to_lower_bound(self) -> float:
        return self.traffic.total_bytes / self.bound.lower_bound_bytes


def footprint_bytes(design: str, layer: AttentionLayer, q_tile: int, kv_tile: int,
                    buffer_bytes: int) -> int:
    """On-chip bytes of a design at the given tiles, as built for a ``buffer_bytes`` buffer."""
    if design == "unfused":
        spill = unfused_on_chip_bytes(layer) > buffer_bytes
        return unfused(layer, _HUGE_BYTES, q_tile, kv_tile, spill=spill).footprint_bytes
    return build(design, layer, _HUGE_BYTES, q_tile, kv_tile).footprint_bytes


def _largest_fitting(design, layer, buffer_bytes, fixed, lo, hi, resident_is_q) -> int | None:
    def fits(t):
        q, kv = (t, fixed) if resident_is_q else (fixed, t)
        return footprint_bytes(design, layer, q, kv, buffer_bytes) <= buffer_bytes
    if not fits(lo):
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _powers(lo: int, hi: int) -> list[int]:
    out, p = [], 1
    while p <= hi:
        if p >= lo:
            out.append(p)
        p *= 2
    return out


def candidates(design: str, layer: AttentionLayer, buffer_bytes: int,
               min_tile: int = 1) -> list[tuple[int, int]]:
    """Pruned legal (q_tile, kv_tile) pairs of ``design``."""
    if design == "unfused" and unfused_on_chip_bytes(layer) <= buffer_bytes:
        return [(layer.n_q, layer.n_kv)]
    resident_is_q = design in _Q_OUTER
    n_res, n_str = (layer.n_q, layer.n_kv) if resident_is_q else (layer.n_kv, layer.n_q)
    lo_res, lo_str = min(min_tile, n_res), min(min_tile, n_str)
    out: set[tuple[int, int]] = set()
    for streamed in sorted(set(_powers(lo_str, n_str)) | {n_str, lo_str}):
        best = _largest_fitting(design, layer, buffer_bytes, streamed, lo_res, n_res,
                                resident_is_q)
        if best is None:
            continue
        n_tiles = -(-n_res // best)
        options = {best, -(-n_res // n_tiles)}
        for resident in options:
            out.add((resident, streamed) if resident_is_q else (streamed, resident))
    return sorted(out)


def softmax_row_block(layer: AttentionLayer, buffer_bytes: int, skip_masked: bool) -> int:
    """Whole score rows the unfused row-block softmax can hold (S and P blocks plus m, ℓ): 0 when
    unfused runs on chip, no row fits, or causal tiles are skipped."""
    if unfused_on_chip_bytes(layer) <= buffer_bytes or (layer.causal and skip_masked):
        return 0
    per_row = 2 * layer.n_kv * layer.bytes_per_element + 2 * layer.stat_bytes_per_element
    return min(layer.n_q, buffer_bytes // per_row)


def kept_tail_tiles(design: str, layer: AttentionLayer, buffer_bytes: int, q_tile: int,
                    kv_tile: int) -> int:
    """Largest ``kv_keep`` of ``design`` that fits at these tiles (0: none), capped at the K/V
    tile count; the footprints of ``designs.flashattention2`` / ``designs.fusemax`` solved for it."""
    d, b, sb = layer.head_dim, layer.bytes_per_element, layer.stat_bytes_per_element
    br, bc = min(q_tile, layer.n_q), min(kv_tile, layer.n_kv)
    fixed = br * (2 * d * b + 2 * sb)
    if design == "flashattention2":
        keep = (buffer_bytes - fixed - br * bc * b) // (2 * bc * d * b)
    else:
        keep = (buffer_bytes - fixed) // (2 * bc * d * b) - 1
    return max(0, min(keep, -(-layer.n_kv // bc)))


def order_candidates(design: str, layer: AttentionLayer, buffer_bytes: int, skip_masked: bool,
                     min_tile: int = 1) -> list[tuple[int, int, int, bool]]:
    """(q_tile, kv_tile, kv_keep, serpentine) candidates of the kept-tail loop order."""
    if design not in ORDER_VARIANTS or (layer.causal and skip_masked):
        return []
    out = set()
    n_q, n_kv = layer.n_q, layer.n_kv
    for bc in sorted(set(_powers(min(min_tile, n_kv), n_kv)) | {n_kv}):
        nk = -(-n_kv // bc)
        largest = _largest_fitting_keep(design, layer, buffer_bytes, bc, 1)
        if largest is None:
            continue
        fewest = -(-n_q // largest)
        q_tiles = {-(-n_q // t) for t in range(fewest, min(fewest + 64, n_q + 1))}
        full = _largest_fitting_keep(design, layer, buffer_bytes, bc, nk)
        if full is not None:
            q_tiles.add(full)
        for br in q_tiles:
            keep = kept_tail_tiles(design, layer, buffer_bytes, br, bc)
            if keep >= 1:
                out.add((br, bc, keep, True))
    return sorted(out)


def _largest_fitting_keep(design, layer, buffer_bytes, bc, keep) -> int | None:
    lo, hi = 1, layer.n_q
    if kept_tail_tiles(design, layer, buffer_bytes, lo, bc) < keep:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if kept_tail_tiles(design, layer, buffer_bytes, mid, bc) >= keep else (lo, mid - 1)
    return lo


def packed_view(layer: AttentionLayer) -> AttentionLayer:
    """One K/V group with its query heads' rows stacked on the q rank (J·n_q rows), for tile
    candidates and footprints only (masking is not represented: ``causal`` is cleared)."""
    return replace(layer, n_q=layer.group_size * layer.n_q, batch=1, heads=1, kv_heads=None,
                   causal=False)


class Candidate(NamedTuple):
    """One point of a design's mapping space: tiles, kept K/V tail and sweep order, unfused
    row-block softmax, GQA head packing (the arguments of ``designs.build``)."""

    q_tile: int
    kv_tile: int
    kv_keep: int = 1
    serpentine: bool = False
    softmax_rows: int = 0
    pack_heads: bool = False


def search_design(design: str, layer: AttentionLayer, buffer_bytes: int, *,
                  objective: Objective = Objective(), skip_masked: bool = True,
                  min_tile: int = 1, pack_heads: bool = True) -> SearchResult | None:
    """Best tiling (and, for FlashAttention-2 and FuseMax, K/V tail and sweep order; for
    FlashAttention-1/-2 and FuseMax under GQA, head packing unless ``pack_heads`` is False) of one
    design, or None when nothing fits the buffer."""
    start = time.perf_counter()
    base = candidates(design, layer, buffer_bytes, min_tile)
    cands = [Candidate(q, kv) for q, kv in base]
    cands += [Candidate(q, kv, keep, serp)
              for q, kv, keep, serp in order_candidates(design, layer, buffer_bytes, skip_masked, min_tile)]
    rows = softmax_row_block(layer, buffer_bytes, skip_masked) if design == "unfused" else 0
    cands += [Candidate(q, kv, softmax_rows=rows) for q, kv in base
              if rows and (q, kv) != (layer.n_q, layer.n_kv)]
    view = layer
    if pack_heads and design in PACKING_DESIGNS and layer.group_size > 1:
        view = packed_view(layer)
        cands += [Candidate(q, kv, pack_heads=True)
                  for q, kv in candidates(design, view, buffer_bytes, min_tile)]
        if not (layer.causal and skip_masked):
            cands += [Candidate(q, kv, keep, serp, pack_heads=True)
                      for q, kv, keep, serp in order_candidates(design, view, buffer_bytes, skip_masked,
                                                                min_tile)]
    best = None
    for c in cands:
        traffic = closed_form_traffic(design, layer, c.q_tile, c.kv_tile, skip_masked, buffer_bytes,
                                      c.kv_keep, c.serpentine, c.softmax_rows, c.pack_heads)
        fp = footprint_bytes(design, view if c.pack_heads else layer, c.q_tile, c.kv_tile, buffer_bytes)
        key = (objective.score(traffic, layer), traffic.total_bytes, c.kv_keep, c.serpentine,
               -c.softmax_rows, fp if c.kv_keep == 1 else 0, c.pack_heads, -c.q_tile, -c.kv_tile)
        if best is None or key < best[0]:
            best = (key, c, traffic)
    if best is None:
        return None
    key, c, traffic = best
    mapping = build(design, layer, buffer_bytes, c.q_tile, c.kv_tile, skip_masked=skip_masked,
                    kv_keep=c.kv_keep, serpentine=c.serpentine, softmax_rows=c.softmax_rows,
                    pack_heads=c.pack_heads)
    return SearchResult(mapping, traffic, traffic_bound(layer, buffer_bytes), key[0], len(cands),
                        time.perf_counter() - start)


def search(layer: AttentionLayer, buffer_bytes: int, *, designs: tuple[str, ...] = DESIGNS,
           objective: Objective = Objective(), skip_masked: bool = True,
           min_tile: int = 1, pack_heads: bool = True) -> dict[str, SearchResult]:
    """Best tiling of every requested design that fits; ``SpecError`` if none fits."""
    for design in designs:
        if design not in DESIGNS:
            raise SpecError(f"unknown attention design {design!r}; choose one of {', '.join(DESIGNS)}")
    results = {}
    for design in designs:
        found = search_design(design, layer, buffer_bytes, objective=objective,
                              skip_masked=skip_masked, min_tile=min_tile, pack_heads=pack_heads)
        if found is not None:
            results[design] = found
    if not results:
        raise SpecError(f"no tiling of {', '.join(designs)} fits a {buffer_bytes} B buffer for "
                        f"head_dim={layer.head_dim}")
    return results


def best_overall(results: dict[str, SearchResult]) -> SearchResult:
    """The result with the lowest score across designs."""
    return min(results.values(), key=lambda r: (r.score, r.traffic.total_bytes))
