"""What one unit of a system costs per Einsum of a cascade: its family's standalone `Result` rows.

`experiments.system.costs` builds these (the only layer that may call the families): each unit's
family maps and simulates the whole cascade on the unit's design, and the rows say, per Einsum,
its latency (the unit's exposed time for it), its energy by component, its MACs, cycles, bytes and
fusion group. A row with `modeled` False, or a family that refused the workload altogether
(`refused` holds its one-line reason; e.g. PIM-GPT models decode only), means the unit cannot run
that Einsum. These tables are what placement (`mappers.system`) and scheduling
(`sim.system.schedule`) read; neither calls a family.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from sim.contract import TRAFFIC_PREFIX, Result, energy_columns

# Columns carried from a unit's row into the system's row (besides energy and traffic columns).
CARRIED = ("macs", "cycles", "fusion_group", "modeled")


@dataclass(frozen=True)
class UnitCosts:
    """One unit's per-Einsum costs on one cascade (`result` None when its family refused it)."""

    unit: str
    family: str
    result: Result | None = field(default=None, repr=False)
    refused: str = ""

    @cached_property
    def records(self) -> dict[str, dict]:
        """einsum -> the row's carried columns (energy components, traffic, MACs, cycles, …)."""
        if self.result is None:
            return {}
        rows = self.result.rows
        keep = [c for c in rows.columns if c in CARRIED or c in energy_columns(rows)
                or c.startswith(TRAFFIC_PREFIX) or c == "offchip_bytes"]
        table = rows.set_index("einsum")
        out = table[keep].to_dict("index")
        subunits = table["unit"].to_dict()
        for name, rec in out.items():
            rec["subunit"] = subunits[name]
            rec.setdefault("modeled", True)
            rec["modeled"] = bool(rec["modeled"])
            fg = rec.get("fusion_group")
            rec["fusion_group"] = fg if isinstance(fg, str) else ""
        return out

    @cached_property
    def duration_s(self) -> dict[str, float]:
        """einsum -> the time the unit is busy with it (the row's `latency_s`)."""
        if self.result is None:
            return {}
        return dict(zip(self.result.rows["einsum"], self.result.rows["latency_s"].astype(float)))

    @cached_property
    def energy_j(self) -> dict[str, float]:
        if self.result is None:
            return {}
        return dict(zip(self.result.rows["einsum"], self.result.rows["energy_j"].astype(float)))

    @cached_property
    def fusion_groups(self) -> dict[str, tuple[str, ...]]:
        """fusion group -> its member Einsums (groups this unit's family fuses)."""
        groups: dict[str, list[str]] = {}
        for name, rec in self.records.items():
            if rec["fusion_group"]:
                groups.setdefault(rec["fusion_group"], []).append(name)
        return {g: tuple(m) for g, m in groups.items()}

    def capable(self, einsum: str) -> bool:
        """True when the unit's family models `einsum` (a row with `modeled` true)."""
        rec = self.records.get(einsum)
        return rec is not None and rec["modeled"]

    def fusion_group(self, einsum: str) -> str:
        rec = self.records.get(einsum)
        return rec["fusion_group"] if rec else ""

    def design(self) -> dict[str, float]:
        return dict(self.result.design) if self.result is not None else {}


def frame(costs: dict[str, UnitCosts]) -> pd.DataFrame:
    """A wide table einsum x unit of durations (NaN where the unit cannot run the Einsum), for
    reports and debugging."""
    cols = {u: {e: (c.duration_s[e] if c.capable(e) else float("nan")) for e in c.duration_s}
            for u, c in costs.items()}
    return pd.DataFrame(cols)
