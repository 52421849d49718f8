"""Architecture spec of a FuseMax-style attention accelerator and its presets.

Models a 2D PE array (``rows × cols`` PEs, one operation per PE per cycle), a 1D PE array / vector
unit (``width`` PEs, one operation per PE per cycle), one global buffer (capacity and bytes per
cycle), off-chip memory (bytes per cycle) and a clock. Which Einsum of the attention cascade runs on
which array is the design's *binding* (``model.BINDINGS``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from workloads.errors import SpecError

ENERGY_TABLE_PATH = Path(__file__).with_name("energy.yaml")


@dataclass(frozen=True)
class ArraySpec:
    """One accelerator configuration; every field carries its source in ``source``."""

    name: str
    rows_2d: int
    cols_2d: int
    width_1d: int
    buffer_bytes: int
    buffer_bytes_per_cycle: int
    offchip_bytes_per_s: float
    clock_hz: float
    bytes_per_element: int = 2
    source: str = ""

    def __post_init__(self) -> None:
        for field in ("rows_2d", "cols_2d", "width_1d", "buffer_bytes", "buffer_bytes_per_cycle",
                      "bytes_per_element"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SpecError(f"ArraySpec.{field} must be a positive integer, got {value!r}")
        if self.offchip_bytes_per_s <= 0 or self.clock_hz <= 0:
            raise SpecError("ArraySpec: off-chip bandwidth and clock must be positive")

    @property
    def pes_2d(self) -> int:
        return self.rows_2d * self.cols_2d

    @property
    def offchip_bytes_per_cycle(self) -> float:
        return self.offchip_bytes_per_s / self.clock_hz

    def with_buffer(self, buffer_bytes: int) -> ArraySpec:
        from dataclasses import replace
        return replace(self, buffer_bytes=buffer_bytes)


_ARTIFACT = ("FuseMax artifact, FPSG-UIUC/micro24-fusemax-artifact, "
             "workspace/inputs/yamls/proposal/arch-2d.yaml and flat_arch-1d.yaml")

# 256×256 2D array (meshX 256 × meshY 256), 256-PE 1D array (meshX 256), 16 MB global buffer
# (32768 rows × 4096 bit, 32 banks: one 512-B row per cycle), 940 MHz (global_cycle_seconds
# 1.0638e-9), 400 GiB/s off-chip ("400 * 2^30 B / s", post-processed bandwidth), fp16 data.
# All designs use the same arrays (the same arch-2d.yaml / flat_arch-1d.yaml); the evaluation is
# iso-area (Nayak et al., MICRO 2024, Sec. 7), which gives FLAT a larger buffer (``FLAT`` below).
FUSEMAX = ArraySpec(
    name="fusemax-cloud",
    rows_2d=256, cols_2d=256, width_1d=256,
    buffer_bytes=16 * 1024 * 1024, buffer_bytes_per_cycle=512,
    offchip_bytes_per_s=400 * 2**30, clock_hz=940e6, bytes_per_element=2,
    source=_ARTIFACT)

# FLAT's global buffer in the artifact's iso-area cloud configuration: 32 MiB (src/accel/flat.py
# ``self.L3 = 32 * 2**20``; yamls/area_energy/architecture/accel_flat/accel-top-2d-path.yaml
# global_buffer depth 65536 × 4096 bit): FLAT has no per-PE exp/max units in its 2D array, and the
# area they take in FuseMax's array goes to buffer. The same yaml gives it 4 read/write ports
# (n_rdwr_ports: 4, n_banks: 4) of 4096-bit rows: 4 × 512 B per cycle.
FLAT_BUFFER_BYTES = 32 * 2**20
# Query rows per block when FLAT spills scores (flat_validation.csv, 256K and 1M rows: P1 = 1024).
FLAT_SPILL_ROW_BLOCK = 1024
FLAT = ArraySpec(
    name="flat-cloud-iso-area",
    rows_2d=256, cols_2d=256, width_1d=256,
    buffer_bytes=FLAT_BUFFER_BYTES, buffer_bytes_per_cycle=4 * 512,
    offchip_bytes_per_s=400 * 2**30, clock_hz=940e6, bytes_per_element=2,
    source=_ARTIFACT + "; 32 MiB buffer: src/accel/flat.py (cloud L3)")

# Default architecture of each design when none is given (the artifact's iso-area comparison).
PRESETS = {"fusemax": FUSEMAX, "flat": FLAT, "unfused": FUSEMAX, "flashattention2": FUSEMAX}


@dataclass(frozen=True)
class EnergyTable:
    """Energy per action in pJ (``per_action_pj``) and the bytes one storage action moves."""

    per_action_pj: dict
    bytes_per_action: dict
    sources: dict

    def energy_pj(self, counts: dict[str, float]) -> dict[str, float]:
        """Energy per action kind: count × table entry (storage counts are in actions)."""
        unknown = set(counts) - set(self.per_action_pj)
        if unknown:
            raise SpecError(f"no energy entry for actions {sorted(unknown)}")
        return {k: counts[k] * self.per_action_pj[k] for k in sorted(counts)}


@lru_cache(maxsize=4)
def load_energy_table(path: str | Path = ENERGY_TABLE_PATH) -> EnergyTable:
    """Read an Accelergy-style table (``actions: {name: {energy_pj, bytes?, source}}``)."""
    with open(path) as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or not isinstance(data.get("actions"), dict):
        raise SpecError(f"{path}: expected a mapping with an 'actions' mapping")
    per, nbytes, src = {}, {}, {}
    for name, entry in data["actions"].items():
        if not isinstance(entry, dict) or "energy_pj" not in entry or "source" not in entry:
            raise SpecError(f"{path}: action {name!r} needs energy_pj and source")
        per[name] = float(entry["energy_pj"])
        nbytes[name] = int(entry.get("bytes", 0))
        src[name] = str(entry["source"])
    return EnergyTable(per, nbytes, src)
