"""The BitMoD paper's analytical accounting of one GEMM (its `accelerator.py`, re-derived).

* compute cycles = array steps × term cycles, where an array step covers `lanes` reduction
  elements of `rows` output channels × `cols` tokens: steps = ceil(k/lanes)·ceil(n/rows)·ceil(m/cols)
  per batch element;
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


def paper_gemm(gemm: GemmShape, accel: AcceleratorSpec) -> dict:
    """Cycles, traffic and energy of `gemm` on `accel` in the paper's accounting."""
    att = gemm.is_attention
    b, m, k, n = gemm.batch, gemm.m_tokens, gemm.k_reduce, gemm.n_out
    lanes = accel.pe.lanes
    steps = b * math.ceil(k / lanes) * math.ceil(n / accel.rows) * math.ceil(m / accel.cols)
    compute = steps * accel.term_cycles(att)
    w_bytes = b * math.ceil(k * accel.static_bits(att) / 8) * n
    i_bytes = b * math.ceil(k * accel.act_bits / 8) * m
    o_bytes = b * math.ceil(n * accel.act_bits / 8) * m
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
