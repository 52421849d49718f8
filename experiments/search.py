"""NSGA-II over the swept parameters (pymoo).

Each swept parameter is an integer index into its list of values (grid list, range or logrange);
pymoo's NSGA2 with integer random sampling, SBX crossover and polynomial mutation (both rounded)
proposes a population per generation, the runner evaluates it (in parallel, reusing stored points),
and the algorithm is told the objectives. A design's objective and constraint values are the means
over the experiment's workloads. Constraints become pymoo inequality constraints g ≤ 0.
`budget` is the number of design evaluations, rounded up to whole generations of `pop_size`; `seed` seeds pymoo,
so a run, and a resumed run, proposes the same designs.
"""
from __future__ import annotations

import numpy as np

from workloads.errors import SpecError

from .space import design_points


def _pymoo():
    try:
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.evaluator import Evaluator
        from pymoo.core.problem import Problem
        from pymoo.operators.crossover.sbx import SBX
        from pymoo.operators.mutation.pm import PM
        from pymoo.operators.repair.rounding import RoundingRepair
        from pymoo.operators.sampling.rnd import IntegerRandomSampling
        from pymoo.problems.static import StaticProblem
    except ImportError:
        raise SpecError("search method nsga2 needs pymoo; install it: .venv/bin/pip install 'pymoo>=0.6.1'") from None
    return NSGA2, Evaluator, Problem, SBX, PM, RoundingRepair, IntegerRandomSampling, StaticProblem


def nsga2(exp, evaluator, progress) -> None:
    NSGA2, Evaluator, Problem, SBX, PM, RoundingRepair, IntegerRandomSampling, StaticProblem = _pymoo()
    axes = exp.axes()
    keys = list(axes)
    sizes = np.array([len(axes[k]) for k in keys])
    objectives = list(exp.objectives.items())
    constraints = [(name, "min", b.min) for name, b in exp.constraints.items() if b.min is not None]
    constraints += [(name, "max", b.max) for name, b in exp.constraints.items() if b.max is not None]
    budget = exp.search.budget
    pop = exp.search.pop_size or max(4, min(40, budget // 4))
    problem = Problem(n_var=len(keys), n_obj=len(objectives), n_ieq_constr=len(constraints),
                      xl=np.zeros(len(keys)), xu=(sizes - 1).astype(float), vtype=int)
    algorithm = NSGA2(pop_size=pop, sampling=IntegerRandomSampling(),
                      crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
                      mutation=PM(eta=20, vtype=float, repair=RoundingRepair()), eliminate_duplicates=True)
    generations = -(-budget // pop)
    algorithm.setup(problem, termination=("n_gen", generations), seed=exp.search.seed, verbose=False)
    while algorithm.has_next():
        population = algorithm.ask()
        X = np.clip(np.rint(population.get("X")).astype(int), 0, sizes - 1)
        designs = [{k: axes[k][i] for k, i in zip(keys, row)} for row in X]
        per_design = [design_points(exp, [d]) for d in designs]
        metrics = evaluator.run([p for pts in per_design for p in pts])

        def mean_of(points, name):
            vals = [metrics[p.id][name] if name in metrics[p.id] else p.params.get(name, np.nan) for p in points]
            return float(np.mean(vals))

        F = np.array([[(-1 if sense == "max" else 1) * mean_of(pts, name) for name, sense in objectives]
                      for pts in per_design])
        kwargs = {"F": F}
        if constraints:
            kwargs["G"] = np.array([[(mean_of(pts, n) - v) if kind == "max" else (v - mean_of(pts, n))
                                     for n, kind, v in constraints] for pts in per_design])
        record = Evaluator().eval  # pymoo's ask-tell step: stores F/G and feasibility on the population
        record(StaticProblem(problem, **kwargs), population)
        algorithm.tell(infills=population)
