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

import itertools
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from mappers.mapspace.fixed import output_stationary
from mappers.mapspace.space import divisors, order_classes, remaining, spatial_options, tilings
from sim.pe_array.batch import evaluate_batch
from sim.pe_array.cost import NestCost, evaluate
from sim.pe_array.nest import Nest, Problem
from sim.pe_array.spec import PEArraySpec
from workloads.errors import SpecError

METHODS = ("auto", "exhaustive", "pruned")
OBJECTIVES = ("latency", "energy", "edp")
MAX_EVALS = 5000
BATCH = 4096  # nests per `evaluate_batch` call


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
    """Evaluates nests in batches (`sim.pe_array.batch.evaluate_batch`), counts them, keeps the
    best: the least key, the earliest in the sequential order (`seq`) among equal keys — the nest
    a one-at-a-time search would keep. The winner is costed again by `cost.evaluate`."""

    def __init__(self, problem: Problem, spec: PEArraySpec, objective: str) -> None:
        self.problem, self.spec, self.objective = problem, spec, objective
        self.evaluated, self.best = 0, None

    def score_batch(self, nests: list[Nest], seqs: list[tuple]) -> list[tuple]:
        """The keys of `nests` (`seqs`: their places in the sequential order)."""
        if not nests:
            return []
        out = []
        for lo in range(0, len(nests), BATCH):
            cost = evaluate_batch(self.problem, nests[lo:lo + BATCH], self.spec)
            cols = [cost.objective(self.objective).tolist()]
            cols += [cost.objective(o).tolist() for o in OBJECTIVES if o != self.objective]
            out += list(zip(*cols))
        self.evaluated += len(nests)
        j = min(range(len(nests)), key=lambda i: (out[i], seqs[i]))
        if self.best is None or (out[j], seqs[j]) < self.best[:2]:
            self.best = (out[j], seqs[j], nests[j])
        return out

    def result(self) -> tuple[Nest, NestCost]:
        nest = self.best[2]
        return nest, evaluate(self.problem, nest, self.spec)


def classes(factors: list[dict], problem: Problem) -> list[tuple]:
    return [order_classes(tuple(r for r, b in f.items() if b > 1), problem) for f in factors]


def exhaustive_tilings(scorer: Scorer, jobs: list) -> None:
    """Every loop-order class of every (spatial option, tiling) in `jobs`, in batches."""
    n = len(scorer.spec.levels)
    nests = [build(o, f, list(orders), n) for o, f in jobs
             for orders in itertools.product(*classes(f, scorer.problem))]
    for lo in range(0, len(nests), BATCH):
        part = nests[lo:lo + BATCH]
        scorer.score_batch(part, [(0, lo + i) for i in range(len(part))])


def descent_tilings(scorer: Scorer, jobs: list) -> None:
    """Loop orders by coordinate descent over the levels (two passes, outer level first), per job,
    first improvement; the jobs run in lockstep so each step is one batch over all of them.

    Why one function: the lockstep bookkeeping (per job: orders, current key, step count) is one
    loop nest; split, it would be passed around whole."""
    n = len(scorer.spec.levels)
    cls = [classes(f, scorer.problem) for _, f in jobs]
    orders = [[c[0] for c in cl] for cl in cls]
    steps = [0] * len(jobs)
    current = scorer.score_batch([build(o, f, orders[g], n) for g, (o, f) in enumerate(jobs)],
                                 [(g, 0) for g in range(len(jobs))])
    levels = max((len(cl) for cl in cls), default=0)
    for _ in range(2):
        for i in range(levels):
            for j in range(max((len(cl[i]) for cl in cls if i < len(cl)), default=0)):
                todo = [g for g, cl in enumerate(cls) if i < len(cl) and j < len(cl[i]) and cl[i][j] != orders[g][i]]
                trials = [orders[g][:i] + [cls[g][i][j]] + orders[g][i + 1:] for g in todo]
                for g in todo:
                    steps[g] += 1
                keys = scorer.score_batch([build(jobs[g][0], jobs[g][1], t, n) for g, t in zip(todo, trials)],
                                          [(g, steps[g]) for g in todo])
                for g, t, k in zip(todo, trials, keys):
                    if k < current[g]:
                        current[g], orders[g] = k, t


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
    scorer.score_batch([fixed_nest], [(-1, 0)])
    fixed_cost = evaluate(problem, fixed_nest, spec)
    used = method
    if method == "auto" and space_bound(problem, spec) > 50 * max_evals:
        used = "pruned"
    elif method in ("auto", "exhaustive"):
        jobs = [(o, f) for o in spatial_options(problem, spec, keep=0.0) for f in tilings(problem, spec, o, False)]
        total = sum(math.prod(len(c) for c in classes(f, problem)) for _, f in jobs)
        used = "exhaustive" if method == "exhaustive" or total <= max_evals else "pruned"
        if used == "exhaustive":
            exhaustive_tilings(scorer, jobs)
    if used == "pruned":
        jobs = [(o, f) for o in spatial_options(problem, spec) for f in tilings(problem, spec, o, True)]
        per_job = max(1, sum(len(c) for c in classes(jobs[0][1], problem)) * 2) if jobs else 1
        if len(jobs) * per_job > max_evals:
            jobs = random.Random(seed).sample(jobs, max(1, max_evals // per_job))
        descent_tilings(scorer, jobs)
    nest, cost = scorer.result()
    if not cost.valid:
        raise SpecError(f"{problem.name}: no nest fits {spec.name} ({cost.reason})")
    return SearchResult(problem, nest, cost, scorer.evaluated, used, fixed_cost)
