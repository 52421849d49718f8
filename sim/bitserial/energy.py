"""Energy from event counts, the way the BitMoD authors' simulator charges it.

* compute: PE energy per cycle × place-and-route factor × PEs × compute cycles (every PE is
  charged every compute cycle, busy or padded);
* SRAM read: one weight-buffer and one input-buffer access per array step, each
  `weight_read_bits` / `input_read_bits` wide;
* SRAM write: every byte brought from DRAM and every output, in `min_write_bits` words;
* DRAM: every bit moved, read or written, at the bus's energy per bit.
"""
from __future__ import annotations

import math

from sim.bitserial.spec import AcceleratorSpec

COMPONENTS = ("compute", "sram", "dram")


def compute_pj(accel: AcceleratorSpec, compute_cycles: float) -> float:
    return accel.pe.energy_pj_per_cycle * accel.pr_scaling * accel.pes * compute_cycles


def sram_read_pj(accel: AcceleratorSpec, steps: float, attention: bool) -> float:
    bits = accel.weight_read_bits(attention) * accel.weight_buffer.read_energy_pj_per_bit
    bits += accel.input_read_bits * accel.input_buffer.read_energy_pj_per_bit
    return steps * bits


def sram_write_pj(accel: AcceleratorSpec, static_bits: float, input_bits: float, output_bits: float) -> float:
    words = accel.weight_buffer.min_write_bits
    w = math.ceil(static_bits / words) * words * accel.weight_buffer.write_energy_pj_per_bit
    io = math.ceil((input_bits + output_bits) / words) * words * accel.input_buffer.write_energy_pj_per_bit
    return w + io


def dram_pj(accel: AcceleratorSpec, bytes_moved: float) -> float:
    return bytes_moved * 8 * accel.dram.energy_pj_per_bit
