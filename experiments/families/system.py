"""The `system` family: a heterogeneous system (units of the four families + links) on one phase.

A design point is a system (`system`: a preset of `sim/system/presets/` or a YAML path), a
placement (`placement`: `auto`, `search` or a placement file) and, for the search, an objective.
On the point's workload (one phase: a prefill, or one decode step at the workload's kv):

    arch(params, workload)   -> SystemArch: the `SystemSpec`, the placement, the workload
    map(cascade, arch, ...)  -> Mapping(family="system"): per-unit costs from the families
                                (`experiments.system.costs`, cached per (unit, workload)) placed
                                by `mappers.system` (auto rules, a file's rules, or the search)
    simulate(mapping, arch)  -> Result: the list schedule (`sim.system.schedule`): one row per
                                Einsum of the cascade, latencies adding up to the makespan

So a prefill point's latency is the TTFT of a request with that prompt and a decode point's is one
token's latency (TPOT at that kv). Design figures: `area_mm2` (the units' area models, summed),
`busy_s_<unit>`, `util_<unit>`, `link_bytes_<link>`, `link_busy_s_<link>`, `transfers`, and the
design's `speedup_vs_gpu` and `energy_ratio_vs_gpu` over the `baseline` GPU preset on the same
phase (`experiments.system.baseline`; `gpu_latency_s`, `gpu_energy_j`; none with
`baseline: none`). Whole requests (TTFT + G decode steps, memory) are `einspace system`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from experiments.system.baseline import CHOICES, baseline_phase, phase_versus
from experiments.system.costs import check_unit, system_costs
from experiments.system.evaluate import PhaseEval, placement_of
from experiments.system.request import unit_areas
from mappers.system import OBJECTIVES, PlacementRules, load_rules
from sim.contract import Mapping, Result
from sim.system.schedule import schedule
from sim.system.spec import SystemSpec, load_system, preset_names
from workloads.errors import SpecError

from . import Family


class SystemParams(BaseModel):
    """Design parameters of the system family (defaults: the hybrid preset, auto placement)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str = "hybrid"
    placement: str = "auto"
    objective: Literal[OBJECTIVES] = "latency_s"  # type: ignore[valid-type]
    baseline: Literal[CHOICES] = "gpu-a100"  # type: ignore[valid-type]

    @field_validator("system")
    @classmethod
    def _system(cls, value: str) -> str:
        if value not in preset_names() and not Path(value).is_file():
            raise ValueError(f"{value!r} is neither a system preset ({', '.join(preset_names())}) nor a YAML file")
        return value

    @field_validator("placement")
    @classmethod
    def _placement(cls, value: str) -> str:
        if value not in ("auto", "search") and not Path(value).is_file():
            raise ValueError(f"{value!r}: not auto, search or a placement file")
        return value

    def rules(self) -> "str | PlacementRules":
        return self.placement if self.placement in ("auto", "search") else load_rules(self.placement)


@dataclass(frozen=True)
class SystemArch:
    """A design point's architecture: the system, how it is placed, the workload it is costed on."""

    spec: SystemSpec
    placement: "str | PlacementRules"
    objective: str
    baseline: str
    workload: dict = field(hash=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def clock_hz(self) -> float:
        return 0.0  # the units keep their own clocks; the system's rows carry each unit's cycles

    @property
    def source(self) -> str:
        return self.spec.source


def arch(params: SystemParams, workload: dict) -> SystemArch:
    """The system (preset or file, units' params checked by their families) and its placement."""
    spec = load_system(params.system)
    for unit in spec.units:
        check_unit(unit)
    return SystemArch(spec, params.rules(), params.objective, params.baseline, workload)


def place_cascade(cascade, arch: SystemArch, strategy: str = "placement", mode: str = "cycle") -> Mapping:
    """The placement of the point's cascade (`experiments.system.evaluate.placement_of`)."""
    mapping, _, _ = placement_of(arch.spec, arch.workload, arch.placement, arch.objective)
    return mapping


def simulate(mapping: Mapping, arch: SystemArch) -> Result:
    """The list schedule of the placed cascade, with area and the ratios over the GPU baseline."""
    costs = system_costs(arch.spec, arch.workload)
    result = schedule(mapping, costs, arch.spec)
    design = dict(result.design)
    design["area_mm2"] = float(sum(unit_areas(arch.spec, [PhaseEval(arch.workload, mapping, result, costs)]).values()))
    if arch.baseline != "none":
        design.update(phase_versus(result, baseline_phase(arch.baseline, arch.workload)))
    return Result(family="system", rows=result.rows, design=design, tokens=result.tokens)


def check(workload: dict, params: dict) -> None:
    """Refuse, in one line, a system whose units' params or placement file are invalid."""
    p = SystemParams(**params)
    try:
        arch(p, workload)
        p.rules()
    except SpecError as err:
        raise SpecError(f"system {p.system}: {err}") from None


METRICS = ("latency_s", "energy_j", "area_mm2", "edp_js", "throughput_tokens_per_s", "speedup_vs_gpu",
           "energy_ratio_vs_gpu", "transfers", "bytes_link", "power_w")

FAMILY = Family(
    name="system",
    params=SystemParams,
    metrics=METRICS,
    arch=arch,
    map=place_cascade,
    simulate=simulate,
    mappings=("placement",),
    description="heterogeneous system: units of the four families + links, placed and list-scheduled (sim.system)",
    fidelity="per unit its family's fidelity; list scheduling over units and links (analytical)",
    check=check,
)
