"""The one contract between mappers and simulators: `Mapping` in, `Result` out.

Every hardware family is two pure functions over the lowered cascade:

    map(cascade, arch, strategy) -> Mapping      # mappers/<family>/
    simulate(mapping, arch)      -> Result       # sim/<family>/

A `Mapping` says, per Einsum of the cascade, which unit runs it, the plan the unit follows (loop
nest and tiles, PIM command stream, GEMM tile schedule), the fusion group it belongs to (Einsums
of one group keep their intermediates on chip) and the off-chip traffic the plan implies. A
`Result` is a tidy table with one row per Einsum — unit, MACs, cycles, latency, energy by
component, bytes per memory level — and totals derived from it, never stored beside it. Figures
that are not sums over Einsums (area, the utilization of one array, a speedup over a baseline)
are `Result.design`.

Row columns (`ROW_COLUMNS` are required; the others are optional):
* `einsum`, `unit`, `group`, `layer`: which Einsum, where it ran, its cascade group and layer;
* `macs`: the Einsum's multiply-accumulates as the simulator executed them (equal to the
  cascade's count: `check_covers` proves it);
* `cycles` (in the unit's clock), `latency_s` (the time it adds to the run: Einsums that overlap
  another's time report only their exposed share, so latencies add up to the run's);
* `energy_<component>_j` (e.g. `energy_mac_j`, `energy_dram_j`), summed into `energy_j`;
* `offchip_bytes`: bytes moved to and from off-chip memory (DRAM, or the PIM channels' buses);
  `bytes_<level>` (e.g. `bytes_sram`, `bytes_link`) for the other levels a family models;
* `fusion_group`: Einsums simulated as one fused pipeline (their cycles and energy are shared
  out over the members in proportion to their operations; the split is stated by the family);
* `modeled`: False for an Einsum the family does not cost (its row then carries zeros).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd

ROW_COLUMNS = ("einsum", "unit", "macs", "cycles", "latency_s")
TRAFFIC_PREFIX = "bytes_"


@runtime_checkable
class ArchSpec(Protocol):
    """What every architecture spec offers: its name, its clock and where its numbers come from.

    The four families' specs (`sim.roofline.RooflineSpec`, `sim.pim.spec.PimSystem`,
    `sim.bitserial.spec.AcceleratorSpec`, `sim.attention_array.arch.ArraySpec`) are frozen
    dataclasses that satisfy this protocol; presets load from YAML with a `source:` field.
    """

    @property
    def name(self) -> str: ...

    @property
    def clock_hz(self) -> float: ...

    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class EinsumMapping:
    """How one Einsum runs: on which unit, by which plan, fused with what, moving what off chip."""

    einsum: str
    unit: str
    plan: Any = None
    fusion_group: str = ""
    offchip_bytes: float | None = None


@dataclass(frozen=True)
class Mapping:
    """A family's mapping of a whole cascade onto one architecture.

    `strategy` names the mapping strategy (e.g. `output-stationary`, `pim-gpt`, `flash2`);
    `mode` the accounting the simulator applies (`cycle`: the cycle-level model; `paper`: the
    paper's analytical accounting, kept separate and documented). `plan` holds whatever the
    family's simulator needs beyond the per-Einsum entries (e.g. the PIM command program).
    """

    family: str
    strategy: str
    cascade: Any = field(repr=False)
    einsums: tuple[EinsumMapping, ...] = ()
    mode: str = "cycle"
    plan: Any = field(default=None, repr=False)

    def of(self, einsum: str) -> EinsumMapping:
        for m in self.einsums:
            if m.einsum == einsum:
                return m
        raise KeyError(einsum)

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.unit for m in self.einsums))


def energy_columns(rows: pd.DataFrame) -> list[str]:
    """The per-component energy columns of a Result table (`energy_<component>_j`)."""
    return [c for c in rows.columns if c.startswith("energy_") and c.endswith("_j") and c != "energy_j"]


@dataclass(frozen=True)
class Result:
    """A simulated cascade: one row per Einsum; totals are derived from the rows."""

    family: str
    rows: pd.DataFrame = field(repr=False)
    design: dict[str, float] = field(default_factory=dict)
    tokens: int = 1

    def __post_init__(self) -> None:
        missing = [c for c in ROW_COLUMNS if c not in self.rows.columns]
        if missing:
            raise ValueError(f"{self.family} Result rows lack the columns {', '.join(missing)}")
        rows = self.rows.copy()
        parts = energy_columns(rows)
        rows["energy_j"] = rows[parts].sum(axis=1) if parts else 0.0
        object.__setattr__(self, "rows", rows.reset_index(drop=True))

    @property
    def latency_s(self) -> float:
        return float(self.rows["latency_s"].sum())

    @property
    def energy_j(self) -> float:
        return float(self.rows["energy_j"].sum())

    @property
    def macs(self) -> int:
        return int(self.rows["macs"].sum())

    def energy_by(self, column: str = "unit") -> pd.Series:
        """Energy summed by a row column (unit, group, …)."""
        return self.rows.groupby(column, sort=False)["energy_j"].sum()

    def traffic(self) -> dict[str, float]:
        """Bytes moved per memory level (`offchip_bytes` and `bytes_<level>` columns), summed over Einsums."""
        return {c: float(self.rows[c].fillna(0).sum()) for c in self.rows.columns
                if c.startswith(TRAFFIC_PREFIX) or c == "offchip_bytes"}

    def totals(self) -> dict[str, float]:
        """Run-level figures: sums over the rows plus the design-level figures."""
        lat, energy = self.latency_s, self.energy_j
        throughput = self.tokens / lat if lat > 0 else 0.0
        out = {"latency_s": lat, "energy_j": energy, "macs": float(self.macs), "edp_js": lat * energy,
               "power_w": energy / lat if lat > 0 else 0.0, "throughput_tokens_per_s": throughput}
        out.update({c: float(self.rows[c].sum()) for c in energy_columns(self.rows)})
        out.update(self.traffic())
        out.update(self.design)
        area = out.get("area_mm2")
        if area:
            out["throughput_per_area"] = throughput / area
        return out

    def check_covers(self, cascade) -> None:
        """Raise unless every Einsum of `cascade` has exactly one row and the MACs agree."""
        names = list(self.rows["einsum"])
        expected = [e.name for e in cascade.einsums]
        if sorted(names) != sorted(expected):
            extra, lacking = set(names) - set(expected), set(expected) - set(names)
            dup = {n for n in names if names.count(n) > 1}
            raise AssertionError(f"{self.family}: rows do not cover the cascade: extra {sorted(extra)[:5]}, "
                                 f"missing {sorted(lacking)[:5]}, duplicated {sorted(dup)[:5]}")
        ours = dict(zip(self.rows["einsum"], self.rows["macs"]))
        wrong = [(s.name, ours[s.name], s.macs) for s in cascade.stats if int(ours[s.name]) != s.macs]
        if wrong:
            raise AssertionError(f"{self.family}: MACs differ from the cascade's (einsum, ours, cascade): {wrong[:5]}")
