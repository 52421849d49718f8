"""Buffer-level tile schedule of one GEMM on a double-buffered PE array.

Each buffer is split in two halves (double buffering), so a resident block may use half the
capacity. Blocks:

* reduction chunk `k_b`: all of k if one array row-tile of weights (`rows` × k) and one
  column-tile of inputs (`cols` × k) fit their half-buffers, else the largest multiple of the
  group size 128 (or of `lanes`) that does — partial sums of a chunk stay in the PEs'
  accumulators (output-stationary), so chunking costs no extra traffic for the active tile;
* weight block `n_b`: the most whole row-tiles (`rows` output channels × k_b) that fit;
* input block `m_b`: the most whole column-tiles (`cols` tokens × k_b) that fit.

Loop order: weights outer (n, then m, then k) or inputs outer (m, n, k), whichever moves fewer
DRAM bytes. A block is loaded when the loop first needs it and again only when it was evicted:
the inner operand is reloaded for every outer block unless all of it fits in one block; the
outer operand is reloaded for every inner block when k is chunked. Outputs are stored once,
when their last k chunk completes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.bitserial.plan import GemmPlan
from sim.bitserial.shape import GemmShape
from sim.bitserial.spec import AcceleratorSpec

GROUP = 128


@dataclass(frozen=True)
class Step:
    """One schedule step (arrays of these are returned column-wise by `tile_schedule`)."""

    compute_cycles: int
    load_bytes: float
    store_bytes: float
    array_steps: int


@dataclass(frozen=True)
class Blocks:
    k_b: int
    n_b: int
    m_b: int
    weights_outer: bool
    weight_fetches: int
    input_fetches: int


def _fit(per_unit_bytes: float, half_bytes: float) -> int:
    return int(half_bytes // per_unit_bytes) if per_unit_bytes > 0 else 1


def buffer_blocks(gemm: GemmShape, accel: AcceleratorSpec) -> Blocks:
    """Block sizes and loop order for `gemm` (see the module docstring)."""
    att = gemm.is_attention
    m, k, n = gemm.m_tokens, gemm.k_reduce, gemm.n_out
    wb, ib = accel.static_bits(att) / 8, accel.act_bits / 8
    half_w, half_i = accel.weight_buffer.capacity_bytes / 2, accel.input_buffer.capacity_bytes / 2
    rows, cols = min(accel.rows, n), min(accel.cols, m)
    k_max = min(_fit(rows * wb, half_w), _fit(cols * ib, half_i))
    if k_max >= k:
        k_b = k
    else:
        unit = GROUP if k_max >= GROUP else accel.pe.lanes
        k_b = max(unit, k_max // unit * unit)
    n_b = min(n, max(1, _fit(rows * k_b * wb, half_w)) * rows)
    m_b = min(m, max(1, _fit(cols * k_b * ib, half_i)) * cols)
    nn, nm, nk = math.ceil(n / n_b), math.ceil(m / m_b), math.ceil(k / k_b)
    w_bytes, i_bytes = n * k * wb, m * k * ib
    # weights outer: inputs reloaded per weight block unless they fit whole; weights reloaded
    # per input block when k is chunked
    wo_fw = nm if (nk > 1 and nm > 1) else 1
    wo_fi = nn if (nm * nk > 1) else 1
    io_fi = nn if (nk > 1 and nn > 1) else 1
    io_fw = nm if (nn * nk > 1) else 1
    weights_outer = w_bytes * wo_fw + i_bytes * wo_fi <= w_bytes * io_fw + i_bytes * io_fi
    fw, fi = (wo_fw, wo_fi) if weights_outer else (io_fw, io_fi)
    return Blocks(k_b, n_b, m_b, weights_outer, fw, fi)


def _edges(total: int, block: int) -> np.ndarray:
    sizes = np.full(math.ceil(total / block), block, dtype=np.int64)
    sizes[-1] = total - block * (len(sizes) - 1)
    return sizes


def tile_schedule(gemm: GemmShape, accel: AcceleratorSpec) -> dict[str, np.ndarray]:
    """The steps of `gemm` on `accel` as arrays `compute_cycles`, `load_bytes` (=
    `weight_load_bytes` + `input_load_bytes`), `store_bytes`, `array_steps` (batch elements run
    one after another)."""
    att = gemm.is_attention
    blk = buffer_blocks(gemm, accel)
    wb, ib, ob = accel.static_bits(att) / 8, accel.act_bits / 8, accel.act_bits / 8
    ns, ms, ks = _edges(gemm.n_out, blk.n_b), _edges(gemm.m_tokens, blk.m_b), _edges(gemm.k_reduce, blk.k_b)
    nn, nm, nk = len(ns), len(ms), len(ks)
    if blk.weights_outer:
        gi = np.indices((nn, nm, nk)).reshape(3, -1)
        jn, jm, jk = gi[0], gi[1], gi[2]
        first_w = (jm == 0) | (nk > 1)
        first_i = (jn == 0) | (nm * nk > 1)
    else:
        gi = np.indices((nm, nn, nk)).reshape(3, -1)
        jm, jn, jk = gi[0], gi[1], gi[2]
        first_i = (jn == 0) | (nk > 1)
        first_w = (jm == 0) | (nn * nk > 1)
    n_sz, m_sz, k_sz = ns[jn], ms[jm], ks[jk]
    w_load = np.where(first_w, n_sz * np.ceil(k_sz * wb), 0.0)
    i_load = np.where(first_i, m_sz * k_sz * ib, 0.0)
    store = np.where(jk == nk - 1, n_sz * m_sz * ob, 0.0)
    arr = (-(-k_sz // accel.pe.lanes)) * (-(-n_sz // accel.rows)) * (-(-m_sz // accel.cols))
    comp = arr * accel.term_cycles(att)
    reps = gemm.batch
    return {
        "compute_cycles": np.tile(comp, reps),
        "load_bytes": np.tile(w_load + i_load, reps),
        "weight_load_bytes": np.tile(w_load, reps),
        "input_load_bytes": np.tile(i_load, reps),
        "store_bytes": np.tile(store, reps),
        "array_steps": np.tile(arr, reps),
    }


def gemm_plan(gemm: GemmShape, accel: AcceleratorSpec, mode: str = "cycle") -> GemmPlan:
    """The plan the simulator receives for `gemm`: its shape, plus (cycle mode) the tile schedule
    and how often the static operand is fetched."""
    if mode == "paper":
        return GemmPlan(gemm)
    return GemmPlan(gemm, tile_schedule(gemm, accel), buffer_blocks(gemm, accel).weight_fetches)
