"""Area of a bit-serial accelerator design at 28 nm (the BitMoD paper's node).

PEs × the paper's synthesized PE area (`PESpec.area_um2`, 28 nm, µm², no place-and-route factor)
plus the weight and input buffers at `sim.roofline.sram_area_mm2_per_byte(28)` (bitcell area /
50 % array efficiency). The DRAM bus and controllers are not included.
"""
from __future__ import annotations

from sim.bitserial.spec import AcceleratorSpec
from sim.roofline import sram_area_mm2_per_byte

NODE_NM = 28  # Chen et al., BitMoD, HPCA 2025 §VI-A: 28 nm synthesis


def area_mm2(accel: AcceleratorSpec) -> float:
    """PE array (synthesized PE area) plus both SRAM buffers, mm²."""
    buffers = accel.weight_buffer.capacity_bytes + accel.input_buffer.capacity_bytes
    return accel.pes * accel.pe.area_um2 * 1e-6 + buffers * sram_area_mm2_per_byte(NODE_NM)
