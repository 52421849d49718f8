"""PIM-GPT's system as a frozen spec: GDDR6-AiM channels with in-bank MACs plus a vector ASIC.

PIM-GPT (Y. Wu, Z. Wang, W. D. Lu, "PIM-GPT: A Hybrid Process-in-Memory Accelerator for
Autoregressive Transformers", npj Unconventional Computing 2024 / arXiv:2310.09385): matrix-
vector products run in AiM-style GDDR6 PIM channels (16 banks per channel, 16 BF16 MAC lanes per
bank, a 2 KB global buffer per channel); an ASIC runs the vector functions (softmax, layer norm,
GELU, residual, partial-sum adds) and moves vectors between channels. Values marked "assumption"
were not confirmed against the paper text in this repository's sources (see docs/pim.md).
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.dram.spec import DramStandard, load_standard


@dataclass(frozen=True)
class PimSystem:
    """Geometry, clocks and energy constants of a PIM-GPT-style system (`aim_cent_system()`: the
    AiM simulator's timing, `standard_name` GDDR6-AiM-CENT)."""

    standard_name: str = "GDDR6-AiM"
    channels: int = 8               # PIM-GPT: 8 GDDR6-PIM channels (assumption: arXiv:2310.09385 Sec. system setup, not re-read here)
    banks: int = 16                 # AiM: 16 banks per channel (ISSCC 2022)
    lanes: int = 16                 # AiM: 16 BF16 multipliers per bank (ISSCC 2022)
    gb_bytes: int = 2048            # AiM: 2 KB global buffer per channel (ISSCC 2022)
    row_bytes: int = 2048           # GDDR6 x16 page per channel (GDDR6.yaml)
    word_bytes: int = 2             # BF16 weights and activations (AiM)
    asic_clock_hz: float = 1e9      # PIM-GPT ASIC clock 1 GHz (assumption, as above)
    asic_lanes: int = 16            # assumption: 16 vector lanes per ASIC function unit
    asic_pipeline_cycles: int = 8   # assumption: fill/drain of one ASIC vector op
    asic_power_w: float = 0.3       # assumption: ASIC active power
    asic_node_nm: int = 28          # assumption: ASIC process node (sim.pim.area)
    asic_buffer_bytes: int = 65536  # assumption: ASIC vector buffer, 32 K BF16 (GPT-2 XL FFN 6,400 + scores)
    mac_pj: float = 2.0             # Horowitz ISSCC 2014 (45 nm): FP16 mult 1.1 pJ + FP32 add 0.9 pJ
    bank_read_pj_per_bit: float = 1.0   # assumption: in-bank column access without I/O
    act_pj_per_bank: float = 500.0      # assumption: one row activation + precharge of one bank
    io_pj_per_bit: float = 7.5      # GDDR6 device 7.5 pJ/bit (GDDR6.yaml, Micron)
    # Run setting, not hardware: decode tokens simulated back to back as one command stream, the
    # last attending over the cascade's whole cache (1: one token, the sweep's default).
    decode_tokens: int = 1
    name: str = "pim-gpt"
    source: str = ("Wu, Wang, Lu, PIM-GPT, arXiv:2310.09385 / npj Unconv. Comput. 2024; SK hynix AiM, "
                   "ISSCC 2022; assumptions marked per field (docs/pim.md)")

    @property
    def standard(self) -> DramStandard:
        return load_standard(self.standard_name)

    @property
    def clock_hz(self) -> float:
        """The command clock every step is timed on (DRAM tCK; ASIC time is converted onto it)."""
        return 1e12 / self.standard.tck_ps

    @property
    def row_elems(self) -> int:
        return self.row_bytes // self.word_bytes

    @property
    def gb_elems(self) -> int:
        return self.gb_bytes // self.word_bytes

    @property
    def dram_cycles_per_asic_cycle(self) -> float:
        return 1e12 / self.asic_clock_hz / self.standard.tck_ps


AIM_CENT_SOURCE = ("SK hynix AiM simulator (github arkhadem/aim_simulator, the Ramulator 2.0 fork CENT, "
                   "ASPLOS 2025, uses): GDDR6_AiM_org (32 channels, 16 banks, 2 KiB rows), "
                   "GDDR6_AiM_timing, AiM controller; energy constants as the PIM-GPT preset")


def aim_cent_system(channels: int = 32) -> PimSystem:
    """The AiM simulator's system (GDDR6-AiM-CENT: TMOD mode switches, nRCDRDMAC, RD_MAC from
    the MAC registers, no refresh), for AiM instruction traces (`sim.pim.isr`). Geometry as
    AiM (16 banks x 16 lanes, 2 KiB global buffer and rows); the ASIC fields are unused."""
    return PimSystem(standard_name="GDDR6-AiM-CENT", channels=channels, name="aim-cent",
                     source=AIM_CENT_SOURCE)
