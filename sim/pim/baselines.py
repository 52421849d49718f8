"""GPU and CPU baselines for the PIM-GPT reproduction, as rooflines (`sim.roofline`).

Energy is TDP x time (the roofline module's processor convention). The GPU is an NVIDIA T4
(NVIDIA T4 Tensor Core GPU datasheet: 65 TFLOPS FP16 mixed precision, 8.1 TFLOPS FP32, 320 GB/s
GDDR6, 70 W, 4 MB L2, 545 mm^2 TU104 die) -- assumed to be PIM-GPT's GPU baseline, not confirmed
against the paper text here. The CPU is `sim.roofline`'s Xeon Platinum 8380 preset (a stand-in
for the paper's CPU; see docs/pim.md).
"""
from __future__ import annotations

from sim.roofline import PRESETS, RooflineSpec

T4 = RooflineSpec(
    name="t4", peak_macs_per_s=65e12 / 2, vector_ops_per_s=8.1e12, buffer_bytes=4 * 2**20,
    dram_bandwidth_bytes_per_s=320e9, dram_energy_j_per_bit=0.0, mac_energy_j=0.0,
    vector_op_energy_j=0.0, sram_energy_j_per_byte=0.0, area_mm2=545.0, static_power_w=70.0,
    source="NVIDIA T4 datasheet (65 TFLOPS FP16, 320 GB/s, 70 W); energy = TDP x time")

BASELINES: dict[str, RooflineSpec] = {"gpu": T4, "cpu": PRESETS["xeon-8380"]}
