"""One phase (a prefill, or one decode step) of a workload on a heterogeneous system.

Per-unit costs (`experiments.system.costs`) -> placement (`mappers.system`: `auto`, `search` or an
explicit `PlacementRules`) -> list scheduling (`sim.system.schedule`) -> a `Result` of family
"system": one row per Einsum with its unit, start, end, exposed latency and energy (units + links).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from experiments.families import cascade_of
from experiments.system.costs import system_costs
from mappers.system import PlacementRules, SearchOutcome, place, search, to_mapping
from sim.contract import Mapping, Result
from sim.system.costs import UnitCosts
from sim.system.schedule import schedule
from sim.system.spec import SystemSpec
from workloads.errors import SpecError

PLACEMENTS = ("auto", "search")


@dataclass(frozen=True)
class PhaseEval:
    """A phase's placement and scheduled Result (and the search's outcome when one ran)."""

    workload: dict
    mapping: Mapping
    result: Result
    costs: dict[str, UnitCosts]
    search: SearchOutcome | None = None
    interpolated: bool = False  # a decode step whose Result is interpolated over kv (experiments.system.decode)


def placement_of(system: SystemSpec, workload: dict, placement: "str | PlacementRules" = "auto",
                 objective: str = "latency_s", fits: Callable[[dict], bool] | None = None
                 ) -> tuple[Mapping, dict[str, UnitCosts], SearchOutcome | None]:
    """The Mapping of `placement` ("auto", "search" or explicit rules) on the workload's cascade."""
    cascade = cascade_of(workload)
    costs = system_costs(system, workload)
    if isinstance(placement, PlacementRules):
        return place(cascade, costs, system, placement), costs, None
    if placement == "auto":
        return place(cascade, costs, system), costs, None
    if placement == "search":
        outcome = search(cascade, costs, system, objective, fits=fits)
        return outcome.mapping, costs, outcome
    raise SpecError(f"placement {placement!r}; allowed: auto, search or a placement file")


def evaluate_phase(system: SystemSpec, workload: dict, placement: "str | PlacementRules | Mapping" = "auto",
                   objective: str = "latency_s", fits: Callable[[dict], bool] | None = None) -> PhaseEval:
    """Place and schedule one phase; a `Mapping` is taken as the placement itself (reused, e.g.
    a searched decode placement applied to every decode step)."""
    if isinstance(placement, Mapping):
        cascade = cascade_of(workload)
        costs = system_costs(system, workload)
        units = {m.einsum: m.unit for m in placement.einsums}
        mapping = to_mapping(cascade, units, costs, placement.strategy, placement.plan)
        outcome = None
    else:
        mapping, costs, outcome = placement_of(system, workload, placement, objective, fits)
    return PhaseEval(workload, mapping, schedule(mapping, costs, system), costs, outcome)
