"""Wall seconds of one heterogeneous-system design point: a LLaMA-2-7B request (P 512, G 128, B 1,
all 32 layers) on the `hybrid` preset, auto placement, decode interpolated over kv
(`experiments.system.decode`).

* `cold`: a fresh process state (per-unit costs and lowered cascades not cached): the prefill and
  the sampled decode steps each lowered and run on every unit's family;
* `warm`: the same request again with the per-(unit, workload) costs cached — what a further
  design point sharing those units pays (another placement, objective or link figure);
* `exact_step`: one decode step simulated from scratch (what each of the G steps would cost
  without interpolation);
* `search`: placement search (`mappers.system.search`, latency objective) on the prefill and on
  the decode step at kv = P + G // 2, costs cached: the candidates list-scheduled and scored.
"""
from __future__ import annotations

import time

from experiments.families import cascade_of
from experiments.system import costs
from experiments.system.decode import sampled
from experiments.system.evaluate import evaluate_phase, placement_of
from experiments.system.request import Request, run_request
from sim.system.spec import load_system

MODEL, PROMPT, GENERATE = "llama-2-7b", 512, 128


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run() -> list[dict]:
    system, req = load_system("hybrid"), Request(MODEL, PROMPT, GENERATE)
    costs.clear_cache()
    name = "system_llama2_7b_p512_g128_hybrid"
    res, cold = _timed(lambda: run_request(system, req))
    _, warm = _timed(lambda: run_request(system, req))
    rows = [{"benchmark": name, "metric": "wall_s_cold", "value": cold, "unit": "s/design point (nothing cached)"},
            {"benchmark": name, "metric": "wall_s_warm", "value": warm, "unit": "s/design point (unit costs cached)"},
            {"benchmark": name, "metric": "decode_steps_simulated", "value": sampled(res.decode),
             "unit": f"of {GENERATE} (the rest interpolated over kv)"}]
    kv = PROMPT + GENERATE + 7  # a cache length no other figure used: nothing cached
    _, step = _timed(lambda: evaluate_phase(system, req.workload("decode", kv)))
    rows.append({"benchmark": name, "metric": "wall_s_exact_step", "value": step,
                 "unit": "s (one decode step simulated, uncached)"})
    for phase, kv_len in (("prefill", None), ("decode", PROMPT + GENERATE // 2)):
        workload = req.workload(phase, kv_len)
        cascade_of(workload)
        placement_of(system, workload)  # costs cached: time the search alone
        (_, _, outcome), dt = _timed(lambda: placement_of(system, workload, "search", "latency_s"))
        rows.append({"benchmark": name, "metric": f"wall_s_search_{phase}", "value": dt,
                     "unit": f"s ({outcome.evaluated} placements scheduled)"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['metric']:<28} {row['value']:10.4g}  {row['unit']}")
