"""Search the mapspace of one Einsum on a PE array for the best loop nest.

Methods (`METHODS`):

* `exhaustive` — every spatial option, every divisor tiling that fits, every loop-order class
  (`mappers.mapspace.space`; order classes are lossless, so this is the whole divisor mapspace);
* `pruned` — the highest-utilization spatial options, per level only maximal tiles, and loop
  orders by coordinate descent (each level's order classes tried with the others held, outer
  level first, two passes); if the tilings still exceed `max_evals`, a seeded random sample of
  them (`seed`) — the heuristic part;
* `auto` — `exhaustive` when the whole space is at most `max_evals` nests, else `pruned`.

Every search also scores the fixed output-stationary nest (`mappers.mapspace.fixed`, the
dataflow the families ran before) and keeps it if nothing beats it, so its best is never worse.
Objectives: `latency` (cycles), `energy` (pJ), `edp`; ties are broken by the other two.
Results are cached per (problem shape, architecture, objective, method, budget, seed).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache

from mappers.mapspace.fixed import output_stationary
from mappers.mapspace.space import divisors, order_classes, remaining, spatial_options, tilings
from sim.pe_array.cost import NestCost, evaluate
from sim.pe_array.nest import Nest, Problem
from sim.pe_array.spec import PEArraySpec
from workloads.errors import SpecError

METHODS = ("auto", "exhaustive", "pruned")
OBJECTIVES = ("latency", "energy", "edp")
MAX_EVALS = 5000


@dataclass(frozen=True)
class SearchResult:
    """The best nest, its cost, how many nests were evaluated, by which method, and the fixed
    output-stationary nest's cost beside it."""

    problem: Problem
    nest: Nest
    cost: NestCost
    evaluated: int
    method: str
    fixed: NestCost


def key(cost: NestCost, objective: str) -> tuple:
    others = [o for o in OBJECTIVES if o != objective]
    return (cost.objective(objective), *(cost.objective(o) for o in others))


def build(option, factors: list[dict], orders: list[tuple], levels: int) -> Nest:
    temporal = [tuple((r, factors[i][r]) for r in orders[i]) for i in range(len(factors))]
    temporal += [()] * (levels - len(factors))
    return Nest(tuple(temporal), tuple(option))


class Scorer:
    """Evaluates nests, counts them, keeps the best."""

    def __init__(self, problem: Problem, spec: PEArraySpec, objective: str) -> None:
        self.problem, self.spec, self.objective = problem, spec, objective
        self.evaluated, self.best = 0, None

    def score(self, nest: Nest) -> tuple:
        cost = evaluate(self.problem, nest, self.spec)
        self.evaluated += 1
        k = key(cost, self.objective)
        if self.best is None or k < self.best[0]:
            self.best = (k, nest, cost)
        return k


def classes(factors: list[dict], problem: Problem) -> list[tuple]:
    return [order_classes(tuple(r for r, b in f.items() if b > 1), problem) for f in factors]


def exhaustive_tiling(scorer: Scorer, option, factors: list[dict]) -> None:
    import itertools

    for orders in itertools.product(*classes(factors, scorer.problem)):
        scorer.score(build(option, factors, list(orders), len(scorer.spec.levels)))


def descent_tiling(scorer: Scorer, option, factors: list[dict]) -> None:
    """Loop orders by coordinate descent over the levels (two passes, outer level first)."""
    cls = classes(factors, scorer.problem)
    orders = [c[0] for c in cls]
    n = len(scorer.spec.levels)
    current = scorer.score(build(option, factors, orders, n))
    for _ in range(2):
        for i, options in enumerate(cls):
            for cand in options:
                if cand == orders[i]:
                    continue
                trial = orders[:i] + [cand] + orders[i + 1:]
                k = scorer.score(build(option, factors, trial, n))
                if k < current:
                    current, orders = k, trial


def space_size(problem: Problem, spec: PEArraySpec) -> tuple[int, list]:
    """Nests in the whole divisor mapspace (all spatial options within 0 of the best kept)."""
    jobs = [(o, f) for o in spatial_options(problem, spec, keep=0.0) for f in tilings(problem, spec, o, False)]
    return sum(math.prod(len(c) for c in classes(f, problem)) for _, f in jobs), jobs


def splits(n: int, parts: int) -> int:
    """Ordered factorizations of n into `parts` factors."""
    if parts == 1:
        return 1
    return sum(splits(n // d, parts - 1) for d in divisors(n))


def space_bound(problem: Problem, spec: PEArraySpec) -> int:
    """An upper bound of the whole space without enumerating it: spatial options × divisor splits
    of every rank over the levels with loops × (ranks!) orders per level."""
    levels = len(spec.levels) - 1
    options = spatial_options(problem, spec, keep=0.0)
    per = max(math.prod(splits(n, levels) for n in remaining(problem, o).values()) for o in options)
    return len(options) * per * math.factorial(len(problem.ranks)) ** levels


@lru_cache(maxsize=1024)
def search(problem: Problem, spec: PEArraySpec, objective: str = "latency", method: str = "auto",
           max_evals: int = MAX_EVALS, seed: int = 0) -> SearchResult:
    """The best nest for `problem` on `spec` (see the module docstring)."""
    if objective not in OBJECTIVES:
        raise SpecError(f"objective {objective!r} is not known; choose one of: {', '.join(OBJECTIVES)}")
    if method not in METHODS:
        raise SpecError(f"search method {method!r} is not known; choose one of: {', '.join(METHODS)}")
    scorer = Scorer(problem, spec, objective)
    fixed_nest = output_stationary(problem, spec)
    scorer.score(fixed_nest)
    fixed_cost = scorer.best[2]
    used = method
    if method == "auto" and space_bound(problem, spec) > 50 * max_evals:
        used = "pruned"
    elif method in ("auto", "exhaustive"):
        jobs = [(o, f) for o in spatial_options(problem, spec, keep=0.0) for f in tilings(problem, spec, o, False)]
        total = sum(math.prod(len(c) for c in classes(f, problem)) for _, f in jobs)
        used = "exhaustive" if method == "exhaustive" or total <= max_evals else "pruned"
        if used == "exhaustive":
            for o, f in jobs:
                exhaustive_tiling(scorer, o, f)
    if used == "pruned":
        jobs = [(o, f) for o in spatial_options(problem, spec) for f in tilings(problem, spec, o, True)]
        per_job = max(1, sum(len(c) for c in classes(jobs[0][1], problem)) * 2) if jobs else 1
        if len(jobs) * per_job > max_evals:
            jobs = random.Random(seed).sample(jobs, max(1, max_evals // per_job))
        for o, f in jobs:
            descent_tiling(scorer, o, f)
    _, nest, cost = scorer.best
    if not cost.valid:
        raise SpecError(f"{problem.name}: no nest fits {spec.name} ({cost.reason})")
    return SearchResult(problem, nest, cost, scorer.evaluated, used, fixed_cost)
