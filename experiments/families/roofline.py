"""The `roofline` family: a generic accelerator (or a GPU/CPU preset) evaluated by `sim.roofline`.

Design parameters build a `sim.roofline.accelerator()`; `preset` instead picks one of
`sim.roofline.PRESETS` (A100, V100, RTX 3090, Xeon 8380, two reference accelerators) and then
excludes the build parameters. Mapping `unfused` (`mappers.roofline.map`): each Einsum on its own, operands via DRAM; simulated
by `sim.roofline.simulate`. Mappings `search`, `search-energy`, `search-edp`: each matrix Einsum as
its best loop nest on the accelerator's PE array (`mappers.mapspace`, minimizing latency, energy
or EDP), costed by `sim.pe_array.simulate` (a GPU/CPU preset has no PE array and is refused).
Mapping `search-fused`: `search`'s nests with single-consumer intermediates kept in the global
buffer where they fit (`mappers.mapspace.fusion`; rows carry `fusion_group`).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

import mappers.roofline
import sim.pe_array.simulate
from sim import roofline
from sim.contract import Mapping, Result

from . import Family

_BUILD_FIELDS = ("pes", "clock_mhz", "buffer_mib", "dram_bandwidth_gb_per_s", "dram", "node_nm", "dtype",
                 "vector_lanes", "fixed_area_mm2", "static_power_w")


class RooflineParams(BaseModel):
    """Design parameters of the roofline family (defaults: the `edge-45nm` reference design)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: Literal[tuple(roofline.PRESETS)] | None = None  # type: ignore[valid-type]
    pes: int = Field(1024, gt=0, description="MAC units")
    clock_mhz: float = Field(1000.0, gt=0)
    buffer_mib: float = Field(1.0, ge=0, description="on-chip buffer, MiB")
    dram_bandwidth_gb_per_s: float = Field(25.6, gt=0, description="off-chip bandwidth, 1e9 B/s")
    dram: Literal[tuple(roofline.DRAM_ENERGY_J_PER_BIT)] = "ddr4"  # type: ignore[valid-type]
    node_nm: Literal[45, 28] = 45
    dtype: Literal["fp16", "fp32", "int8", "int32"] = "fp16"
    vector_lanes: int | None = Field(None, gt=0, description="element-op lanes (default pes/8)")
    fixed_area_mm2: float = Field(1.0, ge=0)
    static_power_w: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _preset_excludes_build(self):
        if self.preset is not None:
            clash = sorted(set(_BUILD_FIELDS) & self.model_fields_set)
            if clash:
                raise ValueError(f"preset {self.preset!r} excludes the build parameters {', '.join(clash)}")
        return self

    def spec(self) -> roofline.RooflineSpec:
        if self.preset is not None:
            return roofline.get_preset(self.preset)
        return roofline.accelerator(
            self.pes, self.clock_mhz * 1e6, self.buffer_mib * 2**20, self.dram_bandwidth_gb_per_s * 1e9,
            dram=self.dram, node_nm=self.node_nm, dtype=self.dtype, vector_lanes=self.vector_lanes,
            fixed_area_mm2=self.fixed_area_mm2, static_power_w=self.static_power_w, name="sweep",
        )


def arch(params: RooflineParams, workload: dict) -> roofline.RooflineSpec:
    """The roofline spec of a design point (the workload does not change it)."""
    return params.spec()


def simulate(mapping: Mapping, spec: roofline.RooflineSpec) -> Result:
    """`sim.roofline.simulate`, or `sim.pe_array.simulate` for a searched mapping."""
    if mapping.strategy in mappers.roofline.SEARCH:
        return sim.pe_array.simulate.simulate(mapping, spec)
    return roofline.simulate(mapping, spec)


METRICS = ("latency_s", "energy_j", "area_mm2", "edp_js", "power_w", "utilization",
           "throughput_tokens_per_s", "throughput_per_area", "offchip_bytes", "buffer_mib")

FAMILY = Family(
    name="roofline",
    params=RooflineParams,
    metrics=METRICS,
    arch=arch,
    map=mappers.roofline.map,
    simulate=simulate,
    mappings=mappers.roofline.STRATEGIES,
    description="per-Einsum analytical roofline (sim.roofline); fusion only under mapping search-fused",
    fidelity="analytical (max of compute, vector and DRAM time per Einsum)",
)
