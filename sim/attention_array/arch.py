"""Architecture spec of a FuseMax-style attention accelerator and its presets.

Models a 2D PE array (``rows × cols`` PEs, one operation per PE per cycle), a 1D PE array / vector
unit (``width`` PEs, one operation per PE per cycle), one global buffer (capacity and bytes per
cycle), off-chip memory (bytes per cycle) and a clock. Which Einsum of the attention cascade runs on
which array is the design's *binding* (``model.BINDINGS``). The presets (the FuseMax artifact's
cloud arrays, with their sources) are `sim/presets/attention_array.yaml`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from sim import presets
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


ARRAYS: dict[str, ArraySpec] = presets.load("attention_array", ArraySpec)
FUSEMAX = ARRAYS["fusemax-cloud"]
FLAT = ARRAYS["flat-cloud-iso-area"]
FLAT_BUFFER_BYTES = FLAT.buffer_bytes
# Query rows per block when FLAT spills scores (flat_validation.csv, 256K and 1M rows: P1 = 1024).
FLAT_SPILL_ROW_BLOCK = 1024

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
