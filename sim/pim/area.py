"""Area of what a PIM-GPT system adds to plain GDDR6: the in-bank MAC lanes, the channels'
global buffers, and the ASIC (vector lanes and its vector buffer).

The DRAM arrays are not counted: they hold the weights either way, and the GPU/CPU baselines'
die areas (`sim.pim.baselines`) exclude their DRAM as well.

* MAC lane: one 16-bit multiplier and one FP32 adder (BF16 products accumulated in FP32, as
  `sim.pim.bank_mac` models them), charged at Horowitz's 45 nm FP16 mult 1,640 um^2 + FP32 add
  4,184 um^2 (ISSCC 2014, via `sim.roofline`'s table). A BF16 multiplier (8-bit significand) is
  smaller than the FP16 one (11-bit) it is charged as. DRAM periphery transistors are no denser
  than a 45 nm logic process (assumption: AiM's own PU area was not found in the sources searched,
  see docs/pim.md).
* Global buffer: `gb_bytes` of SRAM per channel at the 45 nm 6T bitcell (0.346 um^2, Mistry et
  al. IEDM 2007) over the 0.5 array efficiency of `sim.roofline`.
* ASIC: `asic_lanes` FP32 vector lanes (add + mult, 4,184 + 7,700 um^2 at 45 nm) and
  `asic_buffer_bytes` of SRAM, at `asic_node_nm` (28 nm: assumption, PIM-GPT's node not
  confirmed), scaled as `sim.roofline` does ((node / 45)^2 for logic, the 28 nm bitcell 0.127 um^2
  for SRAM). Control, NoC and PHYs are not modelled (no cited figure).
"""
from __future__ import annotations

from sim.roofline import ARITH_45NM, node_area_scale, sram_area_mm2_per_byte

_UM2_TO_MM2 = 1e-6


def pim_area_mm2(system) -> dict[str, float]:
    """Area parts of `system` (a `sim.pim.spec.PimSystem`) in mm^2 and their sum `area_mm2`."""
    fp16_mul = ARITH_45NM["fp16"][3]
    fp32_add, fp32_mul = ARITH_45NM["fp32"][2:]
    lanes = system.channels * system.banks * system.lanes
    mac = lanes * (fp16_mul + fp32_add) * _UM2_TO_MM2
    gb = system.channels * system.gb_bytes * sram_area_mm2_per_byte(45)
    node = system.asic_node_nm
    asic = (system.asic_lanes * (fp32_add + fp32_mul) * _UM2_TO_MM2 * node_area_scale(node)
            + system.asic_buffer_bytes * sram_area_mm2_per_byte(node))
    return {"area_pim_mac_mm2": mac, "area_global_buffer_mm2": gb, "area_asic_mm2": asic,
            "area_mm2": mac + gb + asic}
