"""Mapspace search speed: loop nests costed per second by the scalar `sim.pe_array.cost.evaluate`
and by the batched `sim.pe_array.batch.evaluate_batch` (the same 4096 nests of a 256×768×768 GEMM),
nests per second of the whole search (`mappers.mapspace.search`, enumeration included), and the wall time to map every matrix Einsum of one GPT-2 and one
LLaMA-2-7B decoder layer (prefill, 256 tokens, LM head included) on the roofline family's default
PE array (32 × 32, 1 MiB buffer), cold cache; with the searched / fixed output-stationary cycles."""
from __future__ import annotations

import itertools
import time

from experiments.families import cascade_of
from experiments.support import workload
from mappers.mapspace import search
from mappers.mapspace.cascade import problems, unnamed
from mappers.mapspace.search import build, classes
from mappers.mapspace.space import spatial_options, tilings
from sim import roofline
from sim.pe_array import evaluate, from_roofline, gemm
from sim.pe_array.batch import evaluate_batch


def cost_rates(spec, count: int = 4096) -> list[dict]:
    """Nests per second of the scalar and the batched cost on the same nests."""
    p = gemm(1, 256, 768, 768)
    n = len(spec.levels)
    nests = [build(o, f, list(orders), n) for o in spatial_options(p, spec, keep=0.0)
             for f in tilings(p, spec, o, False) for orders in itertools.product(*classes(f, p))][:count]
    start = time.perf_counter()
    for nest in nests:
        evaluate(p, nest, spec)
    scalar = len(nests) / (time.perf_counter() - start)
    start = time.perf_counter()
    evaluate_batch(p, nests, spec)
    batched = len(nests) / (time.perf_counter() - start)
    return [{"benchmark": "mapspace_cost", "metric": f"{name}_nests_per_s", "value": v, "unit": "nests/s"}
            for name, v in (("scalar", scalar), ("batched", batched))]


def run() -> list[dict]:
    spec = from_roofline(roofline.accelerator(1024, 1e9, 2**20, 25.6e9))
    rows = cost_rates(spec)
    evaluated = wall_all = 0.0
    for model in ("gpt2", "llama-2-7b"):
        search.cache_clear()
        probs = problems(cascade_of(workload(model, "prefill", 256)), 2, 2, 2)
        start = time.perf_counter()
        results = [search(unnamed(p), spec) for p in probs]
        wall = time.perf_counter() - start
        distinct = {unnamed(p) for p in probs}
        evaluated += sum(search(p, spec).evaluated for p in distinct)
        wall_all += wall
        best, fixed = sum(r.cost.cycles for r in results), sum(r.fixed.cycles for r in results)
        rows += [{"benchmark": f"mapspace_{model}_layer_prefill256", "metric": "time_to_map", "value": wall, "unit": "s"},
                 {"benchmark": f"mapspace_{model}_layer_prefill256", "metric": "fixed_over_searched_cycles",
                  "value": fixed / best, "unit": "x"}]
    rows.append({"benchmark": "mapspace_search", "metric": "mappings_per_s", "value": evaluated / wall_all,
                 "unit": "nests/s"})
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
