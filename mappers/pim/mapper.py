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

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.pim.spec import PimSystem
from sim.pim.stream import AsicStep, PimStep, Tile

PIM_GROUPS = ("qkv", "proj", "mlp", "lm_head")


def gemv_tiles(out_rows: int, in_len: int, system: PimSystem, row_base: int = 0
               ) -> tuple[tuple[Tile, ...], ...]:
    """Per-channel tiles of a GEMV with `out_rows` rows of length `in_len`."""
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
                tiles.append(Tile(row=row, segments=1, macs_per_segment=macs,
                                  gb_bursts=macs if g == 0 else 0))
                row += 1
        out.append(tuple(tiles))
    return tuple(out)


def score_tiles(heads: int, d_head: int, kv_len: int, system: PimSystem
                ) -> tuple[tuple[Tile, ...], ...]:
    """Per-channel tiles of q.K over the cache: heads over channels, keys over banks."""
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
                tiles.append(Tile(row=h * 4096 + len(tiles), segments=seg, macs_per_segment=macs,
                                  gb_bursts=macs if first else 0))
                left -= seg
                first = False
        out.append(tuple(tiles))
    return tuple(out)


def context_tiles(heads: int, d_head: int, kv_len: int, system: PimSystem
                  ) -> tuple[tuple[Tile, ...], ...]:
    """Per-channel tiles of p.V with V stored transposed: heads over channels, d over banks."""
    chunk = min(system.gb_elems, system.row_elems)
    groups = math.ceil(d_head / system.banks)
    out = []
    for ch in range(system.channels):
        tiles = []
        for h in range(ch, heads, system.channels):
            for s in range(0, kv_len, chunk):
                macs = math.ceil(min(chunk, kv_len - s) / system.lanes)
                for g in range(groups):
                    tiles.append(Tile(row=h * 4096 + len(tiles), segments=1, macs_per_segment=macs,
                                      gb_bursts=macs if g == 0 else 0))
        out.append(tuple(tiles))
    return tuple(out)


@dataclass(frozen=True)
class PimPlan:
    """A mapped decode step: the per-Einsum assignment table and a step builder per kv length."""

    table: pd.DataFrame
    system: PimSystem
    heads: int
    d_head: int
    d_model: int
    layers: int

    def steps(self, kv_len: int) -> list:
        """PIM and ASIC steps of one decode token attending over `kv_len` cached tokens."""
        steps: list = []
        dpa = self.system.dram_cycles_per_asic_cycle
        bus_bytes_per_cycle = self.system.channels * 32 / self.system.standard.timing("nBL")
        for row in self.table.itertuples():
            if row.unit == "pim":
                if row.pim_kind == "score":
                    tiles = score_tiles(self.heads, self.d_head, kv_len, self.system)
                elif row.pim_kind == "context":
                    tiles = context_tiles(self.heads, self.d_head, kv_len, self.system)
                else:
                    tiles = gemv_tiles(int(row.out_rows), int(row.in_len), self.system)
                steps.append(PimStep(row.einsum, tiles))
            elif row.unit == "transfer":
                steps.append(AsicStep(row.einsum, math.ceil(row.bytes / bus_bytes_per_cycle),
                                      "transfer"))
            else:
                ops = row.vector_ops
                if row.attention:
                    ops = ops * kv_len / max(1, row.kv_len_lowered)
                cycles = math.ceil((math.ceil(ops / self.system.asic_lanes)
                                    + self.system.asic_pipeline_cycles) * dpa)
                steps.append(AsicStep(row.einsum, cycles, "asic"))
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
