"""Per-Einsum roofline model of a generic accelerator, and GPU/CPU baselines as rooflines.

**Analytical, not cycle-level.** Every Einsum of a cascade is charged

    time_s = max(compute_s, memory_s)
    compute_s = max(macs / peak_macs_per_s, vector_ops / vector_ops_per_s)
    memory_s  = offchip_bytes / dram_bandwidth_bytes_per_s

with no overlap between consecutive Einsums (they run one after another) and no fusion: every
Einsum reads its inputs from and writes its outputs to off-chip memory, which is the accounting
many published accelerator numbers follow (see DESIGN.md, "Traps"). `vector_ops` are the
non-MAC element operations of an Einsum: `max(ops - 2*macs, 0)` (a MAC counts one add and one
multiply in the IR's `ops`).

Off-chip traffic of one Einsum is its compulsory traffic (`bytes_read + bytes_written`, each
tensor moved once) or, for contractions whose operands do not fit the on-chip buffer, the
leading term of the tight I/O lower bound for matrix multiplication with a fast memory of S
words, 2·MACs/sqrt(S) words (Smith, Lowery, Langou, van de Geijn, "A Tight I/O Lower Bound for
Matrix Multiplication", arXiv:1702.02017, 2019), whichever is larger.

Energy per Einsum, by component:
    mac:    macs × mac_energy_j
    vector: vector_ops × vector_op_energy_j
    sram:   2 × offchip_bytes × sram_energy_j_per_byte (each byte written into and read out of
            the buffer once; register-level reuse inside the PE array is not charged)
    dram:   8 × offchip_bytes × dram_energy_j_per_bit
    static: static_power_w × time_s (leakage for accelerators; the whole TDP for GPU/CPU
            presets, whose energy is modeled as TDP × time — an upper bound)

Area = pes × mac_area_mm2 + buffer_bytes × sram_area_mm2_per_byte + fixed_area_mm2 (accelerators
built with `accelerator()`); GPU/CPU presets carry their die area from the datasheet.

Energy and area constants (45 nm, 0.9 V) — M. Horowitz, "Computing's Energy Problem (and what
we can do about it)", ISSCC 2014, Fig. 1.1.9 (energy) and the accompanying area table:
    FP16 add 0.4 pJ / 1360 µm², FP16 mult 1.1 pJ / 1640 µm²,
    FP32 add 0.9 pJ / 4184 µm², FP32 mult 3.7 pJ / 7700 µm²,
    INT8 add 0.03 pJ / 36 µm², INT8 mult 0.2 pJ / 282 µm²,
    INT32 add 0.1 pJ / 137 µm², INT32 mult 3.1 pJ / 3495 µm²,
    SRAM read (64 bit) 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ,
    DRAM 1.3–2.6 nJ per 64-bit access.
A MAC is one multiply plus one add of the datatype (the accumulator is kept at the same width;
an FP32 accumulator would cost more). SRAM energy per byte interpolates Horowitz's three sizes
log-linearly in capacity and divides the 64-bit access energy by 8 bytes.
SRAM area: Intel 45 nm 6T bitcell 0.346 µm² (K. Mistry et al., IEDM 2007) and TSMC 28 nm HD
bitcell 0.127 µm² (S.-Y. Wu et al., IEDM 2009 / TSMC 28HPM), at an array efficiency of 0.5
(periphery and sense amplifiers take the other half — a CACTI-style assumption).
Scaling 45 nm → 28 nm (stated rule, first-order Dennard at fixed 0.9 V): energy × (28/45),
logic area × (28/45)². For measured scaling factors see A. Stillmaker and B. Baas, "Scaling
equations for the accurate prediction of CMOS device performance from 180 nm to 7 nm",
Integration 58, 2017; they are within ~30 % of this rule at 28 nm.
DRAM energy per bit: DDR3/DDR4-class 20 pJ/bit (Horowitz's 1.3 nJ per 64-bit access);
LPDDR4 ≈ 6 pJ/bit and HBM2 3.9 pJ/bit (M. O'Connor et al., "Fine-Grained DRAM", MICRO 2017,
Table 1).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from sim import presets
from sim.contract import Mapping, Result
from workloads.dtypes import bits as dtype_bits
from workloads.errors import SpecError

# -- constant tables (Horowitz ISSCC 2014, 45 nm) ------------------------------------------------
_PJ = 1e-12
_UM2_TO_MM2 = 1e-6

# datatype -> (add pJ, mult pJ, add µm², mult µm²) at 45 nm
ARITH_45NM: dict[str, tuple[float, float, float, float]] = {
    "fp16": (0.4, 1.1, 1360.0, 1640.0),
    "fp32": (0.9, 3.7, 4184.0, 7700.0),
    "int8": (0.03, 0.2, 36.0, 282.0),
    "int32": (0.1, 3.1, 137.0, 3495.0),
}
# SRAM 64-bit read energy at 45 nm: capacity bytes -> pJ
_SRAM_READ_45NM_PJ = ((8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0))
# 6T bitcell area µm² by node, and the array efficiency (cells / total macro area)
_BITCELL_UM2 = {45: 0.346, 28: 0.127}
_ARRAY_EFFICIENCY = 0.5
NODES_NM = (45, 28)

DRAM_ENERGY_J_PER_BIT = {
    "ddr4": 20e-12,   # Horowitz 2014: 1.3 nJ / 64-bit access
    "lpddr4": 6e-12,  # O'Connor et al. MICRO 2017, Table 1 (LPDDR4 ≈ 6 pJ/bit)
    "hbm2": 3.9e-12,  # O'Connor et al. MICRO 2017, Table 1
}


def node_energy_scale(node_nm: int) -> float:
    return node_nm / 45.0


def node_area_scale(node_nm: int) -> float:
    return (node_nm / 45.0) ** 2


def _check_node(node_nm: int) -> None:
    if node_nm not in NODES_NM:
        raise SpecError(f"node_nm={node_nm} has no cited constants; allowed: {', '.join(map(str, NODES_NM))}")


def sram_energy_j_per_byte(capacity_bytes: float, node_nm: int = 45) -> float:
    """Read energy per byte of an SRAM of `capacity_bytes`, interpolated log-linearly in capacity
    between Horowitz's 8 KB / 32 KB / 1 MB points (clamped outside), scaled to `node_nm`."""
    _check_node(node_nm)
    caps = np.log2([c for c, _ in _SRAM_READ_45NM_PJ])
    pj = [e for _, e in _SRAM_READ_45NM_PJ]
    slope = (pj[-1] - pj[-2]) / (caps[-1] - caps[-2])
    x = math.log2(max(capacity_bytes, 1.0))
    if x <= caps[-1]:
        e64 = float(np.interp(x, caps, pj))
    else:
        e64 = pj[-1] + slope * (x - caps[-1])
    return e64 / 8 * _PJ * node_energy_scale(node_nm)


def sram_area_mm2_per_byte(node_nm: int = 45) -> float:
    """Macro area per byte: 8 bitcells over the array efficiency."""
    _check_node(node_nm)
    return 8 * _BITCELL_UM2[node_nm] / _ARRAY_EFFICIENCY * _UM2_TO_MM2


@dataclass(frozen=True)
class RooflineSpec:
    """An accelerator (or GPU/CPU) seen as a roofline with per-component energy.

    `buffer_bytes` is the on-chip buffer that bounds reuse (for GPUs the L2, for CPUs the LLC).
    `area_mm2` is the whole design's area; `static_power_w` is charged for every second of runtime.
    """

    name: str
    peak_macs_per_s: float
    vector_ops_per_s: float
    buffer_bytes: float
    dram_bandwidth_bytes_per_s: float
    dram_energy_j_per_bit: float
    mac_energy_j: float
    vector_op_energy_j: float
    sram_energy_j_per_byte: float
    area_mm2: float
    static_power_w: float = 0.0
    word_bytes: float = 2.0
    pes: int | None = None
    clock_hz: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        for key in ("peak_macs_per_s", "vector_ops_per_s", "dram_bandwidth_bytes_per_s", "word_bytes"):
            if not getattr(self, key) > 0:
                raise SpecError(f"roofline spec {self.name!r}: {key} must be > 0, got {getattr(self, key)}")
        for key in ("buffer_bytes", "dram_energy_j_per_bit", "mac_energy_j", "vector_op_energy_j",
                    "sram_energy_j_per_byte", "area_mm2", "static_power_w"):
            if getattr(self, key) < 0:
                raise SpecError(f"roofline spec {self.name!r}: {key} must be >= 0, got {getattr(self, key)}")

    @property
    def ridge_macs_per_byte(self) -> float:
        """Arithmetic intensity (MAC/byte) where the compute roof meets the bandwidth roof."""
        return self.peak_macs_per_s / self.dram_bandwidth_bytes_per_s

    def as_dict(self) -> dict:
        return asdict(self)


def accelerator(
    pes: int,
    clock_hz: float,
    buffer_bytes: float,
    dram_bandwidth_bytes_per_s: float,
    *,
    dram: str = "ddr4",
    node_nm: int = 45,
    dtype: str = "fp16",
    vector_lanes: int | None = None,
    fixed_area_mm2: float = 1.0,
    static_power_w: float = 0.0,
    name: str = "accelerator",
) -> RooflineSpec:
    """Build a generic accelerator: `pes` MAC units at `clock_hz`, `vector_lanes` (default pes/8,
    at least 1) element-op lanes, one buffer, one DRAM interface; energy and area from the cited
    tables at `node_nm`. `fixed_area_mm2` stands for control, NoC and I/O."""
    _check_node(node_nm)
    if dtype not in ARITH_45NM:
        raise SpecError(f"no energy/area constants for dtype {dtype!r}; allowed: {', '.join(ARITH_45NM)}")
    if dram not in DRAM_ENERGY_J_PER_BIT:
        raise SpecError(f"unknown dram {dram!r}; allowed: {', '.join(DRAM_ENERGY_J_PER_BIT)}")
    if pes < 1 or clock_hz <= 0 or buffer_bytes < 0 or dram_bandwidth_bytes_per_s <= 0:
        raise SpecError("accelerator: pes >= 1, clock_hz > 0, buffer_bytes >= 0 and bandwidth > 0 are required")
    lanes = vector_lanes if vector_lanes is not None else max(1, pes // 8)
    add_pj, mul_pj, add_um2, mul_um2 = ARITH_45NM[dtype]
    escale, ascale = node_energy_scale(node_nm), node_area_scale(node_nm)
    mac_area_mm2 = (add_um2 + mul_um2) * _UM2_TO_MM2 * ascale
    vector_area_mm2 = (add_um2 + mul_um2) * _UM2_TO_MM2 * ascale
    area = pes * mac_area_mm2 + lanes * vector_area_mm2 + buffer_bytes * sram_area_mm2_per_byte(node_nm) + fixed_area_mm2
    return RooflineSpec(
        name=name,
        peak_macs_per_s=pes * clock_hz,
        vector_ops_per_s=lanes * clock_hz,
        buffer_bytes=float(buffer_bytes),
        dram_bandwidth_bytes_per_s=float(dram_bandwidth_bytes_per_s),
        dram_energy_j_per_bit=DRAM_ENERGY_J_PER_BIT[dram],
        mac_energy_j=(add_pj + mul_pj) * _PJ * escale,
        vector_op_energy_j=0.5 * (add_pj + mul_pj) * _PJ * escale,
        sram_energy_j_per_byte=sram_energy_j_per_byte(max(buffer_bytes, 1.0), node_nm),
        area_mm2=area,
        static_power_w=static_power_w,
        word_bytes=dtype_bits(dtype) / 8,
        pes=pes,
        clock_hz=clock_hz,
        source=f"Horowitz ISSCC 2014 ({dtype}, 45 nm) scaled to {node_nm} nm; SRAM bitcell per node; {dram} energy",
    )


def processor(name: str, peak_flops: float, vector_flops: float, bandwidth_bytes_per_s: float,
              buffer_bytes: float, tdp_w: float, die_mm2: float, dram: str, clock_hz: float,
              source: str) -> RooflineSpec:
    """A GPU or CPU from its datasheet: peak MAC rate (a MAC is two flops), vector rate, memory
    bandwidth, last-level cache as the buffer, the clock its peak rates are quoted at; energy
    modeled as TDP × time."""
    return RooflineSpec(
        name=name,
        peak_macs_per_s=peak_flops / 2,
        vector_ops_per_s=vector_flops,
        buffer_bytes=buffer_bytes,
        dram_bandwidth_bytes_per_s=bandwidth_bytes_per_s,
        dram_energy_j_per_bit=0.0,
        mac_energy_j=0.0,
        vector_op_energy_j=0.0,
        sram_energy_j_per_byte=0.0,
        area_mm2=die_mm2,
        static_power_w=tdp_w,
        word_bytes=2.0,
        clock_hz=clock_hz,
        source=source + f"; energy modeled as TDP × time ({dram})",
    )


def preset(name: str, kind: str, source: str, **fields) -> RooflineSpec:
    """One entry of `sim/presets/roofline.yaml`: a `processor` or an `accelerator`."""
    if kind == "processor":
        return processor(name, source=source, **fields)
    if kind == "accelerator":
        bandwidth = fields.pop("bandwidth_bytes_per_s")
        spec = accelerator(dram_bandwidth_bytes_per_s=bandwidth, name=name, **fields)
        return replace(spec, source=f"{source}; {spec.source}")
    raise SpecError(f"roofline.yaml: {name}.kind: {kind!r}; allowed: processor, accelerator")


PRESETS: dict[str, RooflineSpec] = presets.load("roofline", preset)


def get_preset(name: str) -> RooflineSpec:
    try:
        return PRESETS[name]
    except KeyError:
        raise SpecError(f"unknown roofline preset {name!r}; allowed: {', '.join(PRESETS)}") from None


ROW_COLUMNS = (
    "einsum", "layer", "group", "kind", "macs", "vector_ops", "offchip_bytes", "compute_s", "memory_s",
    "latency_s", "cycles", "bound", "energy_mac_j", "energy_vector_j", "energy_sram_j", "energy_dram_j", "energy_static_j",
)
ENERGY_COLUMNS = ("energy_mac_j", "energy_vector_j", "energy_sram_j", "energy_dram_j", "energy_static_j")


def offchip_bytes(table: pd.DataFrame, spec: RooflineSpec) -> np.ndarray:
    """Per-Einsum off-chip bytes: compulsory traffic, or the matmul I/O lower bound when larger."""
    compulsory = table["bytes_read"].to_numpy(float) + table["bytes_written"].to_numpy(float)
    words = max(spec.buffer_bytes / spec.word_bytes, 1.0)
    bound = 2.0 * table["macs"].to_numpy(float) / math.sqrt(words) * spec.word_bytes
    return np.maximum(compulsory, bound)


def einsum_rows(table: pd.DataFrame, spec: RooflineSpec) -> pd.DataFrame:
    """The per-Einsum roofline table for a cascade's `table()` on `spec`."""
    macs = table["macs"].to_numpy(float)
    vector = np.maximum(table["ops"].to_numpy(float) - 2.0 * macs, 0.0)
    traffic = offchip_bytes(table, spec)
    compute = np.maximum(macs / spec.peak_macs_per_s, vector / spec.vector_ops_per_s)
    memory = traffic / spec.dram_bandwidth_bytes_per_s
    latency = np.maximum(compute, memory)
    return pd.DataFrame({
        "einsum": table["einsum"].to_numpy(),
        "layer": table["layer"].to_numpy(),
        "group": table["group"].to_numpy(),
        "kind": table["kind"].to_numpy(),
        "macs": macs,
        "vector_ops": vector,
        "offchip_bytes": traffic,
        "compute_s": compute,
        "memory_s": memory,
        "latency_s": latency,
        "cycles": latency * spec.clock_hz if spec.clock_hz else np.full(len(latency), np.nan),
        "bound": np.where(memory > compute, "memory", "compute"),
        "energy_mac_j": macs * spec.mac_energy_j,
        "energy_vector_j": vector * spec.vector_op_energy_j,
        "energy_sram_j": 2.0 * traffic * spec.sram_energy_j_per_byte,
        "energy_dram_j": 8.0 * traffic * spec.dram_energy_j_per_bit,
        "energy_static_j": latency * spec.static_power_w,
    })


def tokens_of(meta: dict) -> int:
    """Tokens produced or consumed by one pass: batch × queries (decode) or batch × seq_len."""
    batch = int(meta.get("batch", 1))
    if meta.get("phase") == "decode":
        return batch * int(meta.get("queries", 1))
    return batch * int(meta.get("seq_len", 1))


def simulate(mapping: Mapping, spec: RooflineSpec) -> Result:
    """Evaluate every Einsum of `mapping.cascade` on `spec`, one after another, unfused (see the
    module docstring for the model)."""
    cascade = mapping.cascade
    rows = einsum_rows(cascade.table(), spec)
    rows.insert(1, "unit", [mapping.of(n).unit for n in rows["einsum"]] if mapping.einsums else spec.name)
    return Result(family="roofline", rows=rows, tokens=tokens_of(cascade.meta),
                  design=design_figures(spec, rows))


def simulate_cascade(cascade, spec: RooflineSpec) -> Result:
    """`simulate` of the unfused schedule (every Einsum alone, operands through DRAM): how a GPU or
    CPU baseline runs one kernel per operator."""
    return simulate(Mapping(family="roofline", strategy="unfused", cascade=cascade), spec)


def design_figures(spec: RooflineSpec, rows: pd.DataFrame) -> dict[str, float]:
    """Figures of the design rather than sums over Einsums: area, buffer, MAC utilization."""
    latency = float(rows["latency_s"].sum())
    utilization = float(rows["macs"].sum() / (spec.peak_macs_per_s * latency)) if latency > 0 else 0.0
    return {"area_mm2": spec.area_mm2, "buffer_mib": spec.buffer_bytes / 2**20, "utilization": utilization}


def with_overrides(spec: RooflineSpec, **changes) -> RooflineSpec:
    """A copy of `spec` with fields replaced (validated again)."""
    return replace(spec, **changes)
