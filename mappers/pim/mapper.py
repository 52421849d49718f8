"""PIM-GPT's mapping: matrix-vector Einsums to PIM banks, vector Einsums to the ASIC.

* Weight GEMVs (groups qkv, proj, mlp, lm_head; `Y[o] = sum_i W[o,i] x[i]`): output rows go
  round-robin over channels, then 16 at a time over a channel's banks; a DRAM row of a bank holds
  contiguous weights of ONE output row (up to 1,024 BF16, one 2 KB page). The input is cut into
  global-buffer chunks of <= 1,024 elements; per chunk the channel writes the chunk into its GB
  (WR_GB) and runs one tile per group of 16 rows (ACT_AB, ceil(len/16) MAC_AB, RD_MAC, PRE_AB).
  With more than one chunk the RD_MAC results are partial sums that the ASIC adds.
* Score `S[t] = q_h . K_h[t]` per head: heads go round-robin over channels; the GB holds q_h;
  keys go round-robin over the 16 banks and are packed 1024/d_head to a DRAM row, one segment per
  key (d_head/16 MAC_AB then RD_MAC).
* Context `O[d] = sum_t p[t] V_h[t,d]` per head: V is stored transposed (row d of a head holds
  V[:, d] over tokens), so context is a GEMV with d_head output rows and the kv length as input,
  cut into GB chunks like the weights.
* Everything else (norms, softmax max/exp/sum/div, GELU, bias adds, residuals, embeddings) runs on
  the ASIC: ceil(ops / lanes) + pipeline ASIC cycles per Einsum; appending the new key and value
  to the cache is a transfer over the channel buses.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.pim.spec import PimSystem
from sim.pim.stream import AsicStep, PimRuns, PimStep, Tile

PIM_GROUPS = ("qkv", "proj", "mlp", "lm_head")


def gemv_layout(out_rows: int, in_len: int, system: PimSystem, row_base: int = 0) -> list[list]:
    """Per channel, the (row, segments, macs_per_segment, gb_bursts) of every tile of a GEMV with
    `out_rows` rows of length `in_len`."""
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
        out.append(tiles)
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
                tiles.append((h * 4096 + len(tiles), seg, macs, macs if first else 0))
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
                    tiles.append((h * 4096 + len(tiles), 1, macs, macs if g == 0 else 0))
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


@dataclass(frozen=True)
class PimPlan:
    """A mapped decode step: the per-Einsum assignment table and a step builder per kv length."""

    table: pd.DataFrame
    system: PimSystem
    heads: int
    d_head: int
    d_model: int
    layers: int

    @functools.cached_property
    def _records(self) -> tuple:
        cols = ("einsum", "unit", "pim_kind", "out_rows", "in_len", "bytes", "vector_ops",
                "attention", "kv_len_lowered")
        return tuple(zip(*(self.table[c].tolist() for c in cols)))

    @functools.cached_property
    def _clocks(self) -> tuple[float, float]:
        """DRAM cycles per ASIC cycle; bytes per DRAM cycle over all channel buses."""
        return (self.system.dram_cycles_per_asic_cycle,
                self.system.channels * 32 / self.system.standard.timing("nBL"))

    @functools.cached_property
    def transfer_bytes(self) -> float:
        """Bytes moved over the channel buses per token outside the MAC streams (KV append)."""
        return float(self.table[self.table.unit == "transfer"].bytes.sum())

    @property
    def kv_dependent(self) -> tuple[bool, ...]:
        """Per step, whether it changes with the kv length (score, context, attention ASIC)."""
        return tuple((unit == "pim" and kind in ("score", "context")) or (unit == "asic" and att)
                     for _, unit, kind, *_, att, _ in self._records)

    def steps(self, kv_len: int, *, runs: bool = False, only: tuple[int, ...] | None = None
              ) -> list:
        """PIM and ASIC steps of one decode token attending over `kv_len` cached tokens.

        PIM steps are `PimStep` (tiles with row addresses) or, with `runs`, `PimRuns` (the same
        tiles as runs of identical signatures). `only` restricts the output to those steps."""
        system = self.system
        dpa, bus_bytes_per_cycle = self._clocks
        pack = as_runs if runs else as_tiles
        kind = PimRuns if runs else PimStep
        attn: dict[str, object] = {}
        asic: dict[tuple, int] = {}
        steps: list = []
        records = self._records if only is None else [self._records[i] for i in only]
        for name, unit, pim_kind, out_rows, in_len, nbytes, vector_ops, attention, kv_low in records:
            if unit == "pim":
                if pim_kind in ("score", "context"):
                    if pim_kind not in attn:
                        layout = score_layout if pim_kind == "score" else context_layout
                        attn[pim_kind] = pack(layout(self.heads, self.d_head, kv_len, system))
                    steps.append(kind(name, attn[pim_kind]))
                else:
                    steps.append(kind(name, pack(gemv_layout(int(out_rows), int(in_len), system))))
            elif unit == "transfer":
                steps.append(AsicStep(name, math.ceil(nbytes / bus_bytes_per_cycle), "transfer"))
            else:
                cycles = asic.get((vector_ops, attention, kv_low))
                if cycles is None:
                    ops = vector_ops
                    if attention:
                        ops = ops * kv_len / max(1, kv_low)
                    cycles = asic[(vector_ops, attention, kv_low)] = math.ceil(
                        (math.ceil(ops / system.asic_lanes) + system.asic_pipeline_cycles) * dpa)
                steps.append(AsicStep(name, cycles, "asic"))
        return steps


def map_decode(cascade, system: PimSystem | None = None) -> PimPlan:
    """Assign every Einsum of a lowered GPT decode cascade to PIM, the ASIC or a transfer."""
    system = system or PimSystem()
    meta = cascade.meta
    spec = meta["spec"]
    heads, d_head, d_model = spec["n_heads"], spec["d_head"], spec["d_model"]
    kv_low = int(meta.get("kv_len", meta.get("seq_len", 1))) + 1
    table = cascade.table()
    rows = []
    for r, e in zip(table.itertuples(), cascade.einsums):
        out_elems = int(np.prod([cascade.rank_sizes[k] for k in _ranks(e.output)])) if r.macs else 0
        rec = dict(einsum=r.einsum, layer=r.layer, group=r.group, macs=int(r.macs),
                   vector_ops=float(max(r.ops - 2 * r.macs, 0) if r.macs else r.ops),
                   bytes=float(r.bytes_written), attention=r.group == "attention",
                   kv_len_lowered=kv_low, unit="asic", pim_kind="", out_rows=0, in_len=0)
        if r.macs and (r.group in PIM_GROUPS or r.group == "attention"):
            rec["unit"] = "pim"
            rec["out_rows"] = out_elems
            rec["in_len"] = int(r.macs) // max(out_elems, 1)
            if r.group == "attention":
                rec["pim_kind"] = "score" if rec["in_len"] == d_head else "context"
            else:
                rec["pim_kind"] = "weight"
        elif r.group == "kv_cache":
            rec["unit"] = "transfer"
        rows.append(rec)
    return PimPlan(pd.DataFrame(rows), system, heads, d_head, d_model, int(meta["layers"]))


def _ranks(access) -> list[str]:
    ranks = getattr(access, "ranks", None)
    if ranks is None:
        ranks = getattr(access, "indices", ())
    return [str(getattr(k, "name", k)) for k in ranks]
