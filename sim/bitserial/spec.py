"""Specs of a weight-quantized PE-array accelerator: PE type, array, buffers, DRAM.

Units are in the names. Everything here is plain data; `presets` fills it from the BitMoD paper.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from workloads.errors import SpecError


@dataclass(frozen=True)
class PESpec:
    """One processing element.

    `lanes` activations are multiplied per cycle (BitMoD: 4 FP16 lanes per PE; bit-parallel
    baselines: 1). A bit-serial PE spends `linear_term_cycles` cycles per weight (one signed
    power-of-two term per cycle) and `attention_term_cycles` per K/V element; a bit-parallel PE
    spends 1. `energy_pj_per_cycle` and `area_um2` are synthesized figures before the
    place-and-route factor of `AcceleratorSpec`.
    """

    name: str
    bit_serial: bool
    lanes: int
    linear_term_cycles: int
    attention_term_cycles: int
    energy_pj_per_cycle: float
    area_um2: float
    source: str = ""

    def __post_init__(self) -> None:
        if self.lanes < 1 or self.linear_term_cycles < 1 or self.attention_term_cycles < 1:
            raise SpecError(f"PE {self.name}: lanes and term cycles must be ≥ 1")


@dataclass(frozen=True)
class BufferSpec:
    """An on-chip SRAM buffer of `capacity_bytes` in `banks` banks."""

    capacity_bytes: int
    banks: int
    read_energy_pj_per_bit: float
    write_energy_pj_per_bit: float
    min_write_bits: int = 64
    source: str = ""

    def __post_init__(self) -> None:
        if self.capacity_bytes <= 0 or self.banks < 1:
            raise SpecError("buffer capacity and bank count must be positive")


@dataclass(frozen=True)
class CommandDram:
    """Switch to the command-level DRAM model (`sim.dram`): a standard from
    `sim/dram/standards`, a channel count (overriding the standard's own) and an address mapping
    (`sim.dram.address`). The mapping's most significant field must be `Ro`, so that moving a
    transfer by whole row stripes changes only its row index (see `sim.bitserial.dram_timing`).
    Page policy open, all-bank refresh (the `einspace dram` defaults)."""

    standard: str
    channels: int
    mapping: str = "RoRaBaCoBgCh"
    source: str = ""

    def __post_init__(self) -> None:
        from sim.dram import available_standards

        if self.standard not in available_standards():
            raise SpecError(f"DRAM standard {self.standard!r} is not known; choose one of: "
                            f"bandwidth, {', '.join(available_standards())}")
        if self.channels < 1 or self.channels & (self.channels - 1):
            raise SpecError(f"DRAM channels {self.channels}: must be a power of two ≥ 1")
        if not self.mapping.startswith("Ro"):
            raise SpecError(f"DRAM mapping {self.mapping!r}: the row field Ro must be the most "
                            "significant (e.g. RoRaBaCoBgCh, RoBaRaCoCh, RoCoBaBgRaCh)")


@dataclass(frozen=True)
class DramSpec:
    """Off-chip memory as a bandwidth and an energy per bit; `model` is "bandwidth" (that
    model) or a `CommandDram` (the command-level model times and charges every transfer; the
    bandwidth fields then serve only the `paper` accounting)."""

    bus_bits: int
    transfers_per_cycle: int
    energy_pj_per_bit: float
    source: str = ""
    model: "str | CommandDram" = "bandwidth"

    def __post_init__(self) -> None:
        if isinstance(self.model, str) and self.model != "bandwidth":
            raise SpecError(f"DRAM model {self.model!r}: use 'bandwidth' or a CommandDram")

    @property
    def bits_per_cycle(self) -> int:
        return self.bus_bits * self.transfers_per_cycle

    @property
    def bytes_per_cycle(self) -> float:
        return self.bits_per_cycle / 8


@dataclass(frozen=True)
class AcceleratorSpec:
    """A PE array of `rows` × `cols` PEs with a weight and an input buffer and a DRAM channel.

    Rows take output channels (each row shares one weight stream), columns take tokens (each
    column shares one activation stream); each PE keeps its outputs' partial sums while the
    reduction dimension streams through in `lanes`-wide steps — an output-stationary dataflow,
    the tiling of the BitMoD authors' simulator (`_calc_tile_fc`).
    """

    name: str
    pe: PESpec
    rows: int
    cols: int
    weight_buffer: BufferSpec
    input_buffer: BufferSpec
    dram: DramSpec
    weight_bits: float
    act_bits: int = 16
    kv_bits: int = 16
    clock_ghz: float = 1.0
    pr_scaling: float = 1.5
    source: str = ""

    def __post_init__(self) -> None:
        if self.rows < 1 or self.cols < 1:
            raise SpecError(f"{self.name}: array must be at least 1×1")
        if not 1 <= self.weight_bits <= 32:
            raise SpecError(f"{self.name}: weight_bits {self.weight_bits} outside 1..32")

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def clock_hz(self) -> float:
        return self.clock_ghz * 1e9

    def term_cycles(self, attention: bool) -> int:
        return self.pe.attention_term_cycles if attention else self.pe.linear_term_cycles

    def static_bits(self, attention: bool) -> float:
        """Bits per element of the static operand in DRAM (weights, or the FP16 K/V cache)."""
        return float(self.kv_bits) if attention else self.weight_bits

    def weight_read_bits(self, attention: bool) -> int:
        """Weight-buffer read width per array step: one weight per lane per row, rounded up to
        4-bit nibbles; a bit-serial PE reads every other cycle (authors' `_init_mem`)."""
        bits = self.pe.lanes * math.ceil(self.static_bits(attention) / 4) * 4 * self.rows
        return bits // 2 if self.pe.bit_serial else bits

    @property
    def input_read_bits(self) -> int:
        bits = self.pe.lanes * self.act_bits * self.cols
        return bits // 2 if self.pe.bit_serial else bits
