"""The BitMoD paper's analytical accounting of one GEMM: the accounting of the authors' simulator
that made the published per-model figures (Figs. 7–8), re-derived.

Which simulator: the cycle counts behind Figs. 7–8 are listed in the authors' plotting notebook
(github.com/abdelfattah-lab/BitMoD-HPCA-25, `sim/plot/speedup_plot.ipynb`, commit 48975fc;
`bitmod_sim/README.md`: "the cycle and energy numbers are the same as those generated in Step 3")
and are exactly what the simulator of that commit (`sim/pe_array.py` with
`bitmod_sim/accelerator.py` of commit 6b68523) computes; docs/bitserial.md, "Per-model fidelity".

* compute cycles = array steps × term cycles, where an array step covers `lanes` reduction
  elements of `rows` output channels × `cols` tokens: steps = ceil(k/lanes)·ceil(n/rows)·ceil(m/cols)
  per batch element;
* attention matmuls (`published_attention`) are not costed per head: that simulator gives
  QK a (t × d) "weight" (the queries, d = heads × head_dim) against H·t score rows, and AV an
  (H·t × kv_len) "weight" (the scores) against t tokens, every operand at the activation
  precision (16 bits), on the PE's weight latency (`pe_latency`, one value for every layer);
* DRAM bytes = static operand + inputs + outputs, each once, unless *both* the static operand
  and the inputs exceed their (whole, not double-buffered) 512 KiB buffers; then the cheaper of
  "refetch all weights once per input-buffer load" and "refetch all inputs once per
  weight-buffer load" is charged;
* DRAM cycles = bytes × 8 / (bus bits per cycle), truncated to an integer;
* layer cycles = max(compute, DRAM): no overlap between layers, no fill or drain, no stalls.
"""
from __future__ import annotations

import math

from sim.bitserial import energy
from sim.bitserial.shape import GemmShape
from sim.bitserial.spec import AcceleratorSpec
from workloads.errors import SpecError


def refetch_counts(static_bytes: float, input_bytes: float, accel: AcceleratorSpec) -> tuple[int, int]:
    """(weight fetches, input fetches) under the paper's rule."""
    cw, ci = accel.weight_buffer.capacity_bytes, accel.input_buffer.capacity_bytes
    if static_bytes > cw and input_bytes > ci:
        n_in = math.ceil(static_bytes / cw)
        n_w = math.ceil(input_bytes / ci)
        if n_w * static_bytes + input_bytes < n_in * input_bytes + static_bytes:
            return n_w, 1
        return 1, n_in
    return 1, 1


def steps_of(reduce: int, rows: int, cols: int, accel: AcceleratorSpec) -> int:
    """Array steps of one output-stationary product (`_calc_tile_fc`): `rows` output channels on
    the array's rows, `cols` tokens on its columns, the reduction `lanes` at a time."""
    return math.ceil(reduce / accel.pe.lanes) * math.ceil(rows / accel.rows) * math.ceil(cols / accel.cols)


def published_attention(gemm: GemmShape, accel: AcceleratorSpec) -> tuple[int, int, int, int]:
    """(array steps, static, input, output bytes) of an attention matmul as the published figures
    count it, per sequence (t query tokens, H heads, d = H × head_dim, d_kv = K/V heads × head_dim,
    T = kv_len), times the sequences:

    * QK: static = the queries, t rows × d; inputs = one d_kv-wide key row per score row (H·t);
      outputs = t × H·t scores; steps ceil(d/lanes)·ceil(t/rows)·ceil(H·t/cols);
    * AV: static = the scores, H·t rows × T; inputs = t value rows × d_kv; outputs = H·t × t;
      steps ceil(T/lanes)·ceil(H·t/rows)·ceil(t/cols).

    In prefill this is H times the per-head QK work and T/head_dim times the per-head AV work;
    in decode (t = 1) the K/V cache moves H rows (QK) and one row (AV) instead of T."""
    a = gemm.attention
    if a is None:
        raise SpecError("the paper's accounting costs an attention matmul by its role (QK or AV) and its heads; "
                        "this GEMM does not say them (map the cascade with mappers.bitserial)")
    seqs = gemm.batch // a.kv_heads
    t, h = a.queries, a.heads
    head_dim, kv_len = (gemm.k_reduce, gemm.n_out) if a.role == "qk" else (gemm.n_out, gemm.k_reduce)
    d, d_kv, act = h * head_dim, a.kv_heads * head_dim, accel.act_bits
    keys = math.ceil(d_kv * accel.kv_bits / 8)
    if a.role == "qk":
        steps = steps_of(d, t, h * t, accel)
        w, i, o = math.ceil(d * act / 8) * t, keys * h * t, math.ceil(t * act / 8) * h * t
    else:
        steps = steps_of(kv_len, h * t, t, accel)
        w, i, o = math.ceil(kv_len * act / 8) * h * t, keys * t, math.ceil(h * t * act / 8) * t
    return seqs * steps, seqs * w, seqs * i, seqs * o


def weight_gemm(gemm: GemmShape, accel: AcceleratorSpec) -> tuple[int, int, int, int]:
    """(array steps, static, input, output bytes) of a weight GEMM."""
    b, m, k, n = gemm.batch, gemm.m_tokens, gemm.k_reduce, gemm.n_out
    steps = b * steps_of(k, n, m, accel)
    w = b * math.ceil(k * accel.weight_bits / 8) * n
    return steps, w, b * math.ceil(k * accel.act_bits / 8) * m, b * math.ceil(n * accel.act_bits / 8) * m


def paper_gemm(gemm: GemmShape, accel: AcceleratorSpec) -> dict:
    """Cycles, traffic and energy of `gemm` on `accel` in the paper's accounting."""
    att = gemm.is_attention
    steps, w_bytes, i_bytes, o_bytes = (published_attention if att else weight_gemm)(gemm, accel)
    compute = steps * accel.term_cycles(False)  # one PE latency for every layer (pe_latency)
    fw, fi = refetch_counts(w_bytes, i_bytes, accel)
    dram_bytes = w_bytes * fw + i_bytes * fi + o_bytes
    dram_cycles = int(dram_bytes * 8 / accel.dram.bits_per_cycle)
    cycles = max(compute, dram_cycles)
    return {
        "cycles": cycles,
        "compute_cycles": compute,
        "dram_cycles": dram_cycles,
        "fill_cycles": 0,
        "stall_cycles": cycles - compute,
        "drain_cycles": 0,
        "array_steps": steps,
        "dram_bytes": dram_bytes,
        "weight_fetches": fw,
        "input_fetches": fi,
        "energy_compute_pj": energy.compute_pj(accel, compute),
        "energy_sram_pj": energy.sram_read_pj(accel, steps, att)
        + energy.sram_write_pj(accel, w_bytes * fw * 8, i_bytes * fi * 8, o_bytes * 8),
        "energy_dram_pj": energy.dram_pj(accel, dram_bytes),
    }
