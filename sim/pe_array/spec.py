"""A PE array as the loop-nest cost model sees it: storage levels, a spatial fan-out, a MAC rate.

The architecture follows Timeloop's abstraction (Parashar et al., "Timeloop: A Systematic Approach
to DNN Accelerator Evaluation", ISPASS 2019, §III): a hierarchy of storage levels, outermost
(DRAM) first, each with a capacity, a bandwidth towards its children and an energy per byte
accessed; one level fans out spatially over the array (`fanout_level`: its children are the PEs,
one copy per PE) along named spatial dimensions (rows, columns and, for vector PEs, lanes).
A level may hold only some tensor roles (`holds`, e.g. a weight/input buffer that outputs bypass)
and may split its capacity per role (`capacity_by_role`: separate weight and input buffers).

`cycles_per_step` is what one temporal iteration of the innermost loops costs every PE: 1 for a
bit-parallel MAC, the datatype's terms for a bit-serial PE (BitMoD: one signed power-of-two term
per cycle). `systolic` adds SCALE-Sim's pipeline fill and drain per fold (`sim.pe_array.systolic`).

Two adapters build the spec from the families' own specs: `from_roofline` (a `RooflineSpec` with
`pes`) and `from_bitserial` (an `AcceleratorSpec`); their assumptions are stated there.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from workloads.errors import SpecError

ROLES = ("input", "weight", "output")
INF = math.inf


@dataclass(frozen=True)
class Level:
    """One storage level: capacity per PE copy (bytes; `inf` for DRAM), bandwidth towards its
    children in bytes per cycle (`inf`: never the bottleneck), energy per byte read or written."""

    name: str
    capacity_bytes: float = INF
    bytes_per_cycle: float = INF
    energy_pj_per_byte: float = 0.0
    holds: tuple[str, ...] = ROLES
    capacity_by_role: tuple[tuple[str, float], ...] = ()

    def capacity_of(self, role: str) -> float:
        return dict(self.capacity_by_role).get(role, self.capacity_bytes)


@dataclass(frozen=True)
class SpatialDim:
    """One spatial dimension of the array; `reduce_only`: it may unroll only reduced ranks (the
    lanes of a vector PE add into one accumulator)."""

    name: str
    size: int
    reduce_only: bool = False


@dataclass(frozen=True)
class PEArraySpec:
    """A PE array with its storage hierarchy (see the module docstring)."""

    name: str
    levels: tuple[Level, ...]
    spatial: tuple[SpatialDim, ...]
    fanout_level: int
    clock_hz: float
    mac_energy_pj: float = 0.0
    cycles_per_step: int = 1
    systolic: bool = False
    source: str = ""
    attrs: tuple[tuple[str, float], ...] = field(default=(), compare=True)

    def __post_init__(self) -> None:
        if len(self.levels) < 2 or not 0 <= self.fanout_level < len(self.levels) - 1:
            raise SpecError(f"PE array {self.name}: needs >= 2 levels and a fan-out above the innermost")
        if any(d.size < 1 for d in self.spatial) or self.cycles_per_step < 1:
            raise SpecError(f"PE array {self.name}: spatial sizes and cycles_per_step must be >= 1")

    @property
    def pes(self) -> int:
        return math.prod(d.size for d in self.spatial if not d.reduce_only)

    @property
    def macs_per_step(self) -> int:
        return math.prod(d.size for d in self.spatial)


def square_shape(pes: int) -> tuple[int, int]:
    """Rows × columns for `pes` PEs: the most nearly square factorization (rows <= columns)."""
    rows = int(math.isqrt(pes))
    while pes % rows:
        rows -= 1
    return rows, pes // rows


PE_BUFFER_BYTES = 512  # Eyeriss's per-PE scratchpads: 12+224+24 16-bit words ≈ 0.5 KB (Chen et al., ISCA 2016, Table III)
RF_ENERGY_RATIO = 1.0  # Eyeriss normalized access energy: RF 1×, inter-PE 2×, buffer 6×, DRAM 200× of a MAC (ISCA 2016, Fig. 2)


def from_roofline(spec, systolic: bool = False) -> PEArraySpec:
    """The PE array behind a `sim.roofline.RooflineSpec` built by `accelerator()`.

    Assumptions (stated, not from a datasheet): the `pes` MAC units form the most nearly square
    array; each PE has an Eyeriss-sized 512 B local buffer at an access energy of one MAC per word
    (Eyeriss's RF ratio) and a one-word register per operand; the global buffer is `buffer_bytes`
    at the spec's SRAM energy, feeding one word per array row and column per cycle (the array edge,
    as a systolic array is fed); DRAM at the spec's bandwidth and energy."""
    if not spec.pes or not spec.clock_hz:
        raise SpecError(f"roofline spec {spec.name!r} has no PE count or clock (a GPU/CPU preset): "
                        "the PE-array mapping needs an accelerator")
    rows, cols = square_shape(int(spec.pes))
    word, mac_pj = spec.word_bytes, spec.mac_energy_j * 1e12
    levels = (
        Level("DRAM", INF, spec.dram_bandwidth_bytes_per_s / spec.clock_hz, spec.dram_energy_j_per_bit * 8e12),
        Level("GLB", spec.buffer_bytes, (rows + cols) * word, spec.sram_energy_j_per_byte * 1e12),
        Level("PEbuf", PE_BUFFER_BYTES, INF, RF_ENERGY_RATIO * mac_pj / word),
        Level("REG", 3 * word, INF, 0.0),
    )
    return PEArraySpec(name=f"{spec.name}-pe{rows}x{cols}", levels=levels,
                       spatial=(SpatialDim("rows", rows), SpatialDim("cols", cols)), fanout_level=1,
                       clock_hz=spec.clock_hz, mac_energy_pj=mac_pj, systolic=systolic,
                       source=f"{spec.source}; PE buffer and array shape: sim.pe_array.spec.from_roofline")


def from_bitserial(accel, attention: bool = False) -> PEArraySpec:
    """The PE array of a `sim.bitserial.spec.AcceleratorSpec` (BitMoD-style): DRAM on the
    accelerator's bus; the weight and input buffers as one level with per-role capacity (half of
    each: double buffering, as `mappers.bitserial.schedule`) that outputs bypass; one accumulator
    and one lane-wide operand register per PE; rows × columns × lanes spatially, lanes only over
    the reduction; `cycles_per_step` the PE's term cycles for the weight datatype. Energy per byte:
    DRAM and SRAM from the spec; the PE's energy per cycle is charged per MAC step."""
    wb = accel.static_bits(attention) / 8
    ab = accel.act_bits / 8
    half_w = accel.weight_buffer.capacity_bytes / 2
    half_i = accel.input_buffer.capacity_bytes / 2
    sram_pj = accel.input_buffer.read_energy_pj_per_bit * 8
    levels = (
        Level("DRAM", INF, accel.dram.bytes_per_cycle, accel.dram.energy_pj_per_bit * 8),
        Level("GLB", half_w + half_i, INF, sram_pj, holds=("input", "weight"),
              capacity_by_role=(("weight", half_w), ("input", half_i))),
        Level("REG", ab + wb + ab, INF, 0.0),
    )
    pe_pj = accel.pe.energy_pj_per_cycle * accel.pr_scaling / accel.pe.lanes
    return PEArraySpec(name=f"{accel.name}-pe", levels=levels,
                       spatial=(SpatialDim("rows", accel.rows), SpatialDim("cols", accel.cols),
                                SpatialDim("lanes", accel.pe.lanes, reduce_only=True)),
                       fanout_level=1, clock_hz=accel.clock_hz, mac_energy_pj=pe_pj * accel.term_cycles(attention),
                       cycles_per_step=accel.term_cycles(attention),
                       source=f"{accel.source}; sim.pe_array.spec.from_bitserial")
