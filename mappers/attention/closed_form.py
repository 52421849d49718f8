"""Closed-form traffic of each design, used only by the tile search.

Each function returns the same numbers the exact loop-nest counter (``loopnest.count_traffic``)
produces for the mapping built by ``designs.build`` — ragged tiles, causal tile skipping and tile
reuse across loop boundaries included — without walking the nest. ``test_attn_closed_form`` checks
the equality on many shapes; the search re-counts its winner with the exact counter.
"""
from __future__ import annotations

import numpy as np

from mappers.attention.designs import unfused_on_chip_bytes
from mappers.attention.layer import AttentionLayer
from mappers.attention.loopnest import TrafficCount, last_row_in_head


def _tiles(extent: int, tile: int) -> tuple[np.ndarray, np.ndarray]:
    lo = np.arange(0, extent, tile, dtype=np.int64)
    return lo, np.minimum(lo + tile, extent)


def _kv_sweeps(layer: AttentionLayer, br: int, bc: int, skip: bool, pack: int = 1):
    """Per q tile: its rows, the kv rows of its active kv tiles, and the index of its last kv tile.
    ``pack``: query heads whose rows are stacked on the q rank (GQA head packing)."""
    q_lo, q_hi = _tiles(pack * layer.n_q, br)
    n_kv_tiles = -(-layer.n_kv // bc)
    if skip and layer.causal:
        row = last_row_in_head(q_lo, q_hi, layer.n_q, pack)
        last = np.minimum((row + layer.causal_offset) // bc, n_kv_tiles - 1)
    else:
        last = np.full(q_lo.shape, n_kv_tiles - 1)
    kv_rows = np.minimum((last + 1) * bc, layer.n_kv)
    return q_hi - q_lo, kv_rows, last


def _streamed_rows(layer: AttentionLayer, br: int, bc: int, skip: bool, pack: int = 1) -> int:
    """K (or V) rows loaded by a kv sweep per q tile, with the first tile reused when it is still
    resident from the previous sweep (the previous sweep ended on kv tile 0)."""
    _, kv_rows, last = _kv_sweeps(layer, br, bc, skip, pack)
    first_tile_rows = min(bc, layer.n_kv)
    reused = int(np.count_nonzero(last[:-1] == 0)) * first_tile_rows
    return int(kv_rows.sum()) - reused


def active_tiles(layer: AttentionLayer, br: int, bc: int, skip: bool, pack: int = 1) -> int:
    """(q, kv) tiles a q-outer nest computes per nest instance (per head, or per GQA group when
    ``pack`` heads are packed; fully masked ones skipped when ``skip``)."""
    _, _, last = _kv_sweeps(layer, min(br, pack * layer.n_q), min(bc, layer.n_kv), skip, pack)
    return int((last + 1).sum())


def _area(layer: AttentionLayer, br: int, bc: int, skip: bool, pack: int = 1) -> int:
    q_rows, kv_rows, _ = _kv_sweeps(layer, br, bc, skip, pack)
    return int((q_rows * kv_rows).sum())


def _scaled(reads: dict, writes: dict, pairs: int, layer: AttentionLayer,
            pack: int = 1) -> TrafficCount:
    n = layer.instances // pack
    return TrafficCount({k: int(v) * n for k, v in sorted(reads.items()) if v},
                        {k: int(v) * n for k, v in sorted(writes.items()) if v}, pairs * n)


def _kept_rows(layer: AttentionLayer, br: int, bc: int, keep: int, serpentine: bool,
               pack: int = 1) -> int:
    """K (or V) rows loaded over all whole sweeps when the last ``keep`` tiles stay on chip: the
    next sweep reuses them if it runs backwards (serpentine) or if every tile is kept."""
    n_kv, nk = layer.n_kv, -(-layer.n_kv // bc)
    sweeps = -(-pack * layer.n_q // br)
    w = min(keep, nk)
    if w == nk:
        return n_kv
    if not serpentine:
        return sweeps * n_kv
    forward_tail = n_kv - (nk - w) * bc
    backward_tail = w * bc
    later = sweeps - 1
    return n_kv + later * n_kv - (later + 1) // 2 * forward_tail - later // 2 * backward_tail


def fa2_traffic(layer: AttentionLayer, br: int, bc: int, skip: bool, keep: int = 1,
                serpentine: bool = False, pack: int = 1) -> TrafficCount:
    """FlashAttention-2 and FuseMax (same loop nest): Q, O once; K and V once per q tile, less
    the tiles kept from the previous sweep. ``pack`` > 1: the q tiles run over the stacked rows
    of ``pack`` query heads of one K/V group, counted once per group."""
    row = layer.head_dim * layer.bytes_per_element
    n_q = pack * layer.n_q
    br, bc = min(br, n_q), min(bc, layer.n_kv)
    if keep > 1 or serpentine:
        kv = _kept_rows(layer, br, bc, keep, serpentine, pack) * row
    else:
        kv = _streamed_rows(layer, br, bc, skip, pack) * row
    return _scaled({"Q": n_q * row, "K": kv, "V": kv}, {"O": n_q * row},
                   _area(layer, br, bc, skip, pack), layer, pack)


def flat_traffic(layer: AttentionLayer, br: int, bc: int, skip: bool) -> TrafficCount:
    """FLAT: the K sweep and the V sweep each follow the FlashAttention-2 pattern."""
    return fa2_traffic(layer, br, bc, skip)


def fa1_traffic(layer: AttentionLayer, br: int, bc: int, skip: bool,
                pack: int = 1) -> TrafficCount:
    """FlashAttention-1: K, V once; per kv tile, every active q tile reads Q and updates O, ℓ, m.

    A q tile is active for a kv tile unless fully masked: its largest in-head row (``pack`` > 1:
    rows of several heads stacked) sees the tile's first key. The last q tile holds the last row
    of a head, so it is always active and ends every sweep; a sweep whose only active tile is that
    one continues the previous run (no reload). Every q tile is active for kv tile 0."""
    d, b, sb = layer.head_dim, layer.bytes_per_element, layer.stat_bytes_per_element
    n_q = pack * layer.n_q
    br, bc = min(br, n_q), min(bc, layer.n_kv)
    q_lo, q_hi = _tiles(n_q, br)
    kv_lo, kv_hi = _tiles(layer.n_kv, bc)
    if skip and layer.causal:
        row = last_row_in_head(q_lo, q_hi, layer.n_q, pack)
        order = np.argsort(row, kind="stable")
        sorted_rows = row[order]
        sizes = np.concatenate(([0], np.cumsum((q_hi - q_lo)[order])))
        # q tiles with row + offset >= kv_lo are active: a suffix of the sorted rows
        start = np.searchsorted(sorted_rows, kv_lo - layer.causal_offset, side="left")
        rows_per_sweep = sizes[-1] - sizes[start]
        active = sorted_rows.size - start
    else:
        rows_per_sweep = np.full(kv_lo.shape, n_q, dtype=np.int64)
        active = np.full(kv_lo.shape, q_lo.size, dtype=np.int64)
    last_tile_rows = int(q_hi[-1] - q_lo[-1])
    merged = int(np.count_nonzero(active[1:] == 1)) * last_tile_rows
    run_rows = int(rows_per_sweep.sum()) - merged
    area = int(((kv_hi - kv_lo) * rows_per_sweep).sum())
    reads = {"K": layer.n_kv * d * b, "V": layer.n_kv * d * b, "Q": run_rows * d * b,
             "O": (run_rows - n_q) * d * b,
             "m": (run_rows - n_q) * sb, "l": (run_rows - n_q) * sb}
    writes = {"O": run_rows * d * b, "m": run_rows * sb, "l": run_rows * sb}
    return _scaled(reads, writes, area, layer, pack)


def unfused_traffic(layer: AttentionLayer, br: int, bc: int, skip: bool,
                    buffer_bytes: int, softmax_rows: int = 0) -> TrafficCount:
    """Unfused 3-pass: on chip if everything fits, else S written once and read three times, P
    written and read once, K and V streamed per q tile, statistics per row."""
    d, b, sb = layer.head_dim, layer.bytes_per_element, layer.stat_bytes_per_element
    row = d * b
    if unfused_on_chip_bytes(layer) <= buffer_bytes:
        return _scaled({"Q": layer.n_q * row, "K": layer.n_kv * row, "V": layer.n_kv * row},
                       {"O": layer.n_q * row}, layer.n_q * layer.n_kv, layer)
    br, bc = min(br, layer.n_q), min(bc, layer.n_kv)
    kv = _streamed_rows(layer, br, bc, skip) * row
    area = _area(layer, br, bc, skip)
    if softmax_rows:
        reads = {"Q": layer.n_q * row, "K": kv, "V": kv, "S": area * b, "P": area * b}
        writes = {"S": area * b, "P": area * b, "O": layer.n_q * row}
        return _scaled(reads, writes, area, layer)
    reads = {"Q": layer.n_q * row, "K": kv, "V": kv, "S": 3 * area * b, "P": area * b,
             "m": 2 * layer.n_q * sb, "l": layer.n_q * sb}
    writes = {"S": area * b, "P": area * b, "m": layer.n_q * sb, "l": layer.n_q * sb,
              "O": layer.n_q * row}
    return _scaled(reads, writes, area, layer)


def closed_form_traffic(design: str, layer: AttentionLayer, br: int, bc: int, skip: bool,
                        buffer_bytes: int, keep: int = 1, serpentine: bool = False,
                        softmax_rows: int = 0, pack_heads: bool = False) -> TrafficCount:
    """Traffic of ``designs.build(design, layer, buffer_bytes, br, bc, skip_masked=skip,
    kv_keep=keep, serpentine=serpentine, softmax_rows=softmax_rows, pack_heads=pack_heads)``."""
    pack = layer.group_size if pack_heads else 1
    if design == "unfused":
        return unfused_traffic(layer, br, bc, skip, buffer_bytes, softmax_rows)
    if design == "flashattention1":
        return fa1_traffic(layer, br, bc, skip, pack)
    if design == "flat":
        return flat_traffic(layer, br, bc, skip)
    return fa2_traffic(layer, br, bc, skip, keep, serpentine, pack)
