"""Placement search: every assignment of the compute classes to the units that can run them.

The classes searched are the cascade groups holding MAC work (a `matrix` or `attention` Einsum
with MACs: qkv, attention, proj, mlp, lm_head); a class's candidate units are those whose family
models every such Einsum of the class. The vector policy (`producer` or `host`, see
`mappers.system.placement`) is one more axis. Each candidate is resolved into a placement by the
placement rules (so fusion groups, KV-cache appends and vector Einsums follow them), duplicates are
dropped, and each distinct placement is list-scheduled (`sim.system.timeline`, the scheduler the
Result comes from) and scored by the objective: `latency_s` (the makespan), `energy_j` (units plus
links) or `edp` (their product). The rule-based `auto` placement is scored first, so the search is
never worse than it; ties keep the earlier candidate. A `fits` predicate (the request's memory
check) skips placements that do not fit.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable

from sim.contract import Mapping
from sim.system.costs import UnitCosts
from sim.system.schedule import Dag, Timeline, timeline
from sim.system.spec import SystemSpec
from workloads.errors import SpecError

from .placement import PlacementRules, resolve, roles, to_mapping

OBJECTIVES = ("latency_s", "energy_j", "edp")
VECTOR_POLICIES = ("producer", "host")


@dataclass(frozen=True)
class SearchOutcome:
    """The best placement, what it scored, how many placements were scheduled."""

    mapping: Mapping
    choice: dict[str, str]
    vector: str
    metric: float
    objective: str
    evaluated: int
    candidates: int
    skipped: int = 0
    scores: dict[tuple, float] = field(default_factory=dict, repr=False)


def metric(tl: Timeline, objective: str) -> float:
    if objective == "latency_s":
        return tl.makespan
    if objective == "energy_j":
        return tl.energy_j
    if objective == "edp":
        return tl.makespan * tl.energy_j
    raise SpecError(f"objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")


def search_space(cascade, costs: dict[str, UnitCosts], system: SystemSpec) -> dict[str, tuple[str, ...]]:
    """class -> the units that model every MAC-carrying matrix/attention Einsum of it."""
    r = roles(cascade)
    work: dict[str, list[str]] = {}
    for e, s in zip(cascade.einsums, cascade.stats):
        if r[e.name] in ("matrix", "attention") and s.macs > 0:
            work.setdefault(e.group, []).append(e.name)
    space = {}
    for group, members in work.items():
        units = tuple(u for u in system.unit_names if u in costs and all(costs[u].capable(m) for m in members))
        if units:
            space[group] = units
    return space


def _candidates(space: dict[str, tuple[str, ...]]):
    classes = list(space)
    for vector in VECTOR_POLICIES:
        for units in itertools.product(*(space[c] for c in classes)):
            yield dict(zip(classes, units)), vector


def search(cascade, costs: dict[str, UnitCosts], system: SystemSpec, objective: str = "latency_s",
           max_placements: int = 20000, fits: Callable[[dict[str, str]], bool] | None = None) -> SearchOutcome:
    """Exhaustive placement search (module docstring)."""
    if objective not in OBJECTIVES:
        raise SpecError(f"objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    space = search_space(cascade, costs, system)
    total = len(VECTOR_POLICIES)
    for units in space.values():
        total *= len(units)
    if total > max_placements:
        raise SpecError(f"placement search: {total} candidates over the classes {', '.join(space)} exceed "
                        f"max_placements {max_placements}; give an explicit placement file")
    dag = Dag.of(cascade)
    scores: dict[tuple, float] = {}
    best, skipped = None, 0
    for choice, vector in [({}, "auto"), *_candidates(space)]:
        rules = PlacementRules() if vector == "auto" else PlacementRules(classes=choice, vector=vector)
        placement = resolve(cascade, costs, system, rules)
        key = tuple(placement[n] for n in dag.order)
        if key in scores:
            continue
        if fits is not None and not fits(placement):
            scores[key], skipped = float("inf"), skipped + 1
            continue
        scores[key] = value = metric(timeline(dag, placement, costs, system), objective)
        if best is None or value < best[0]:
            best = (value, choice, vector, placement)
    if best is None:
        raise SpecError(f"placement search: none of the {len(scores)} placements fits the units' memory")
    value, choice, vector, placement = best
    plan = {"choice": choice, "vector": vector, "objective": objective, "metric": value, "evaluated": len(scores)}
    return SearchOutcome(to_mapping(cascade, placement, costs, "search", plan), choice, vector, value, objective,
                         evaluated=len(scores), candidates=total + 1, skipped=skipped, scores=scores)
