"""Area of a FuseMax-style accelerator (`ArraySpec`): its 2D PE array, 1D PE array and global buffer.

Area = rows_2d · cols_2d · (one 2D PE) + width_1d · (one 1D PE) + buffer_bytes · (buffer area per
byte), in mm² at 45 nm. Every constant is in `area.yaml` with its source: the FuseMax artifact's
Accelergy area reports (Nayak et al., MICRO 2024; repo FPSG-UIUC/micro24-fusemax-artifact,
`workspace/inputs/yamls/area_energy/outputs-{2d,1d}-{fusemax,flat}/ART_summary_verbose.yaml`),
the same 45 nm estimates the energy table (`energy.yaml`) comes from.

* A PE is the sum of its components' areas (µm²). FuseMax's 2D PE: MAC 1545, adder 1030, max unit
  49.29 and a 32-word register file 4255.93 (6880.22 in all); its 1D PE: the same four plus a
  divider 23740.94 (30621.16; the report's run left the max unit out, the architecture file has it:
  see `area.yaml`). FLAT's 2D PE: MAC, adder and a 4 × 64-bit register file 1838.15 (4413.15); its
  1D PE: MAC, adder, max, the pipelined exp unit 8240, the divider and a 16-word register file
  2145.42 (36750.65). FuseMax computes exp on its MACs (6 MACs + 1 add), so neither of its arrays
  has an exp unit. Unfused and FlashAttention-2 are built of FLAT's PEs (they run softmax on FLAT's
  1D unit, `model.PIPELINED_1D`).
* Buffer: the report's CactiSRAM area of a 32 MiB global buffer (94.176 mm²: depth 4,194,304 ×
  64 bit in the report's input) per byte, 2.807 µm²/B, scaled linearly with `buffer_bytes`
  (assumption: CACTI's periphery does not amortize exactly linearly; it is the only buffer size
  the artifact reports). Ports and banking (`buffer_bytes_per_cycle`) do not change it: both 2D
  reports give the same area for 1 and 4 read/write ports.

Left out: the NoC and inter-PE links (the reports' `inter_PE_spatial` are 1 µm² dummies), control,
the buffer's address generators (256 µm²), off-chip PHYs and the DRAM itself. At the presets this
gives FuseMax 505.8 mm² and FLAT (32 MiB) 392.8 mm²: not iso-area (docs/attention_array.md, Area).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml

from sim.attention_array.arch import ArraySpec
from workloads.errors import SpecError

AREA_TABLE_PATH = Path(__file__).with_name("area.yaml")
ARRAYS = ("2d", "1d")
_UM2_TO_MM2 = 1e-6


@dataclass(frozen=True)
class AreaTable:
    """µm² per PE component (`pe[kind][array][component]`), per buffer byte, and each design's PE kind."""

    pe_um2: Mapping[str, Mapping[str, Mapping[str, float]]]
    buffer_um2_per_byte: float
    design_pe: Mapping[str, str]
    sources: Mapping[str, str]

    def pe_kind(self, design: str) -> str:
        if design not in self.design_pe:
            raise SpecError(f"no area model for design {design!r}; allowed: {', '.join(self.design_pe)}")
        return self.design_pe[design]


def _positive(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SpecError(f"{where} must be a positive number, got {value!r}")
    return float(value)


def _entry(entry, where: str) -> tuple[float, str]:
    if not isinstance(entry, dict) or "area_um2" not in entry or "source" not in entry:
        raise SpecError(f"{where} needs area_um2 and source")
    return _positive(entry["area_um2"], f"{where}.area_um2"), str(entry["source"])


@lru_cache(maxsize=4)
def load_area_table(path: str | Path = AREA_TABLE_PATH) -> AreaTable:
    """Read `area.yaml` (`global_buffer`, `pe.<kind>.<2d|1d>.<component>`, `designs.<design>.pe`)."""
    with open(path) as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), dict) for k in ("global_buffer", "pe", "designs")):
        raise SpecError(f"{path}: expected mappings global_buffer, pe and designs")
    sources: dict[str, str] = {}
    gb = data["global_buffer"]
    gb_um2, sources["global_buffer"] = _entry(gb, f"{path}: global_buffer")
    capacity = _positive(gb.get("capacity_bytes"), f"{path}: global_buffer.capacity_bytes")
    pe: dict[str, MappingProxyType] = {}
    for kind, arrays in data["pe"].items():
        if not isinstance(arrays, dict) or set(arrays) != set(ARRAYS):
            raise SpecError(f"{path}: pe.{kind} needs exactly the arrays {', '.join(ARRAYS)}")
        per_array = {}
        for array in ARRAYS:
            comps = arrays[array]
            if not isinstance(comps, dict) or not comps:
                raise SpecError(f"{path}: pe.{kind}.{array} needs at least one component")
            parts = {}
            for comp, entry in comps.items():
                parts[comp], sources[f"pe.{kind}.{array}.{comp}"] = _entry(entry, f"{path}: pe.{kind}.{array}.{comp}")
            per_array[array] = MappingProxyType(parts)
        pe[kind] = MappingProxyType(per_array)
    design_pe = {}
    for design, entry in data["designs"].items():
        if not isinstance(entry, dict) or entry.get("pe") not in pe or "source" not in entry:
            raise SpecError(f"{path}: designs.{design} needs pe (one of {', '.join(pe)}) and source")
        design_pe[design], sources[f"designs.{design}"] = entry["pe"], str(entry["source"])
    return AreaTable(MappingProxyType(pe), gb_um2 / capacity, MappingProxyType(design_pe),
                     MappingProxyType(sources))


def pe_area_um2(design: str, array: str, table: AreaTable | None = None) -> dict[str, float]:
    """µm² of each component of one PE of `array` ("2d" or "1d") in `design`'s accelerator."""
    table = table or load_area_table()
    if array not in ARRAYS:
        raise SpecError(f"array must be one of {', '.join(ARRAYS)}, got {array!r}")
    return dict(table.pe_um2[table.pe_kind(design)][array])


def array_area_mm2(arch: ArraySpec, design: str, table: AreaTable | None = None) -> dict[str, float]:
    """Area parts of `arch` built for `design`, in mm² (`area_2d_mm2`, `area_1d_mm2` — each with its
    PEs' register files — and `area_buffer_mm2`), and their sum `area_mm2`."""
    if not isinstance(arch, ArraySpec):
        raise SpecError(f"arch must be an ArraySpec, got {type(arch).__name__}")
    table = table or load_area_table()
    pe_2d = sum(pe_area_um2(design, "2d", table).values())
    pe_1d = sum(pe_area_um2(design, "1d", table).values())
    parts = {"area_2d_mm2": arch.rows_2d * arch.cols_2d * pe_2d * _UM2_TO_MM2,
             "area_1d_mm2": arch.width_1d * pe_1d * _UM2_TO_MM2,
             "area_buffer_mm2": arch.buffer_bytes * table.buffer_um2_per_byte * _UM2_TO_MM2}
    return {**parts, "area_mm2": parts["area_2d_mm2"] + parts["area_1d_mm2"] + parts["area_buffer_mm2"]}
