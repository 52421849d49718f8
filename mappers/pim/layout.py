"""Where PIM-GPT puts a matrix-vector product's operands: tiles per channel.

A tile is one ACT_AB ... PRE_AB episode of a channel (`sim.pim.stream.Tile`); a layout lists, per
channel, each tile as (row, segments, macs_per_segment, gb_bursts).

* Weight GEMV `Y[o] = sum_i W[o,i] x[i]`: output rows go round-robin over channels, then 16 at a
  time over a channel's banks; a DRAM row of a bank holds contiguous weights of ONE output row (up
  to 1,024 BF16, one 2 KB page). The input is cut into global-buffer chunks of <= 1,024 elements;
  per chunk the channel writes the chunk into its GB (WR_GB) and runs one tile per group of 16 rows
  (ACT_AB, ceil(len/16) MAC_AB, RD_MAC, PRE_AB). With more than one chunk the RD_MAC results are
  partial sums that the ASIC adds. Several input vectors (batch x new tokens) are separate GEMV
  streams, one after another, each reloading the GB and reopening the rows.
* Score `S[t] = q_h . K_h[t]` per head: heads go round-robin over channels; the GB holds q_h; keys
  go round-robin over the 16 banks and are packed 1024/d_head to a DRAM row, one segment per key
  (d_head/16 MAC_AB then RD_MAC).
* Context `O[d] = sum_t p[t] V_h[t,d]` per head: V is stored transposed (row d of a head holds
  V[:, d] over tokens), so context is a GEMV with d_head output rows and the kv length as input,
  cut into GB chunks like the weights.
"""
from __future__ import annotations

import functools
import math

from sim.pim.spec import PimSystem
from sim.pim.stream import Tile

_HEAD_ROWS = 4096  # row-address stride between heads (addresses only; timing ignores them)


def gemv_layout(out_rows: int, in_len: int, system: PimSystem, row_base: int = 0,
                vectors: int = 1) -> list[list]:
    """Per channel, the (row, segments, macs_per_segment, gb_bursts) of every tile of a GEMV with
    `out_rows` rows of length `in_len`, run once per input vector."""
    chunk = min(system.gb_elems, system.row_elems)
    chunks = [min(chunk, in_len - s) for s in range(0, in_len, chunk)]
    out = []
    for ch in range(system.channels):
        rows = len(range(ch, out_rows, system.channels))
        groups = math.ceil(rows / system.banks)
        tiles, row = [], row_base
        for length in chunks:
            macs = math.ceil(length / system.lanes)
            for g in range(groups):
                tiles.append((row, 1, macs, macs if g == 0 else 0))
                row += 1
        out.append(tiles * vectors)
    return out


def score_layout(heads: int, d_head: int, kv_len: int, system: PimSystem) -> list[list]:
    """Per channel, the tiles of q.K over the cache: heads over channels, keys over banks."""
    macs = math.ceil(d_head / system.lanes)
    per_row = max(1, system.row_elems // d_head)
    keys_per_bank = math.ceil(kv_len / system.banks)
    out = []
    for ch in range(system.channels):
        tiles = []
        for h in range(ch, heads, system.channels):
            left, first = keys_per_bank, True
            while left > 0:
                seg = min(per_row, left)
                tiles.append((h * _HEAD_ROWS + len(tiles), seg, macs, macs if first else 0))
                left -= seg
                first = False
        out.append(tiles)
    return out


def context_layout(heads: int, d_head: int, kv_len: int, system: PimSystem) -> list[list]:
    """Per channel, the tiles of p.V with V stored transposed: heads over channels, d over banks."""
    chunk = min(system.gb_elems, system.row_elems)
    groups = math.ceil(d_head / system.banks)
    out = []
    for ch in range(system.channels):
        tiles = []
        for h in range(ch, heads, system.channels):
            for s in range(0, kv_len, chunk):
                macs = math.ceil(min(chunk, kv_len - s) / system.lanes)
                for g in range(groups):
                    tiles.append((h * _HEAD_ROWS + len(tiles), 1, macs, macs if g == 0 else 0))
        out.append(tiles)
    return out


def as_tiles(layout: list[list]) -> tuple[tuple[Tile, ...], ...]:
    return tuple(tuple(Tile(row, seg, macs, gb) for row, seg, macs, gb in tiles)
                 for tiles in layout)


def as_runs(layout: list[list]) -> tuple:
    """Per channel, the tiles as runs of (signature, count) -- what decides timing."""
    out = []
    for tiles in layout:
        runs: list[list] = []
        for _, seg, macs, gb in tiles:
            sig = (seg, macs, gb)
            if runs and runs[-1][0] == sig:
                runs[-1][1] += 1
            else:
                runs.append([sig, 1])
        out.append(tuple((sig, n) for sig, n in runs))
    return tuple(out)


def gemv_tiles(out_rows: int, in_len: int, system: PimSystem, row_base: int = 0
               ) -> tuple[tuple[Tile, ...], ...]:
    """Per-channel tiles of a GEMV with `out_rows` rows of length `in_len`."""
    return as_tiles(gemv_layout(out_rows, in_len, system, row_base))


def score_tiles(heads: int, d_head: int, kv_len: int, system: PimSystem
                ) -> tuple[tuple[Tile, ...], ...]:
    return as_tiles(score_layout(heads, d_head, kv_len, system))


def context_tiles(heads: int, d_head: int, kv_len: int, system: PimSystem
                  ) -> tuple[tuple[Tile, ...], ...]:
    return as_tiles(context_layout(heads, d_head, kv_len, system))


def canonical_kv(kind: str, kv_len: int, system: PimSystem) -> int:
    """The least kv length whose `kind` ("score"/"context") layout equals the one at `kv_len`:
    a score's tiles depend on kv only through the keys per bank, ceil(kv / banks); a context's
    through its GB chunks' MAC counts, ceil(min(chunk, kv - s) / lanes) per chunk."""
    if kind == "score":
        return -(-kv_len // system.banks) * system.banks
    chunk = min(system.gb_elems, system.row_elems)
    full, rem = divmod(kv_len, chunk)
    return full * chunk + -(-rem // system.lanes) * system.lanes


@functools.lru_cache(maxsize=4096)
def attention_runs(kind: str, heads: int, d_head: int, kv_len: int, system: PimSystem) -> tuple:
    """`as_runs` of the score/context layout at `kv_len`, one shared object per distinct layout
    (keyed on `canonical_kv`), so a decode rebuilds nothing while kv stays in one layout."""
    return _attention_runs(kind, heads, d_head, canonical_kv(kind, kv_len, system), system)


@functools.lru_cache(maxsize=4096)
def _attention_runs(kind: str, heads: int, d_head: int, kv_len: int, system: PimSystem) -> tuple:
    layout = score_layout if kind == "score" else context_layout
    return as_runs(layout(heads, d_head, kv_len, system))


@functools.lru_cache(maxsize=256)
def gemv_runs(out_rows: int, in_len: int, system: PimSystem, vectors: int = 1) -> tuple:
    """`as_runs` of a GEMV's layout, one shared object per (shape, system)."""
    return as_runs(gemv_layout(out_rows, in_len, system, vectors=vectors))
