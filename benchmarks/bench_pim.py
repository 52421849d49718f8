"""PIM family at sweep speed, and wall seconds per simulated GPT-2 XL decode token per engine.

Sweep-speed figures (in process, the contract's path `Family.result`: map + simulate):

* `pim_family_sweep`: points/s of a 200-point sweep over channels (1-20) x asic_lanes (10 values)
  on gpt2 (seq_len 1,024, one decode token per point, the sweep's default); the cascade is lowered
  once per process (`cascade_of`), its classification memoized on the cascade, layouts cached per
  (shape, system).
* `pim_gpt2xl_decode`: the whole 1,024-token GPT-2 XL decode through `get_family("pim").result`
  with `tokens=1024` (one continuous command stream, every token simulated), wall and CPU seconds.
* `pim_reproduce`: `experiments.reproductions.pim_gpt.reproduce` for the 8 models x 1,024 tokens
  with both baselines -- what `einspace pim --reproduce` computes (the table; writing the CSV/PNG
  excluded), wall and CPU seconds.

Engine figures (GPT-2 XL token at kv 1024):

* `fast`: the full token (48 layers + LM head, every channel, refresh on) on `run_fast`.
* `event`: the event-driven reference (`run_event`, simpy, one event per command, no trace) on the
  steps of ONE transformer layer, scaled by the number of layers (the full token takes minutes);
  the fast path is timed on the same reduced stream too.
* `analytic`: `sim.pim.analytic` on the same full token from an idle system.

`--quick` runs the sweep-speed figures only.
"""
from __future__ import annotations

import sys
import time

from experiments.families import get_family
from experiments.reproductions.pim_gpt import reproduce, token_run
from experiments.schema import Workloads
from experiments.space import Point
from mappers.pim import map_decode
from sim.pim.analytic import AnalyticRunner
from sim.pim.engine import run_event, run_fast
from workloads import lower

MODELS = ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-125m", "gpt3-350m", "gpt3-760m", "gpt3-1.3b")
LANES = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128)


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def sweep_rows() -> list[dict]:
    fam = get_family("pim")
    gpt2 = Workloads(models=["gpt2"], phases=["decode"], seq_len=[1024]).combos()[0]
    points = [Point("pim", "pim-gpt", gpt2, {"channels": c, "asic_lanes": a})
              for c in range(1, 21) for a in LANES]
    fam.result(points[0])  # lowering the cascade is per process, not per point
    _, wall, cpu = _timed(lambda: [fam.result(p) for p in points])
    rows = [{"benchmark": "pim_family_sweep", "metric": "points_per_s", "value": len(points) / wall,
             "unit": "points/s (200 gpt2 points, channels x asic_lanes, wall)"},
            {"benchmark": "pim_family_sweep", "metric": "points_per_cpu_s", "value": len(points) / cpu,
             "unit": "points/CPU s"}]
    xl = Workloads(models=["gpt2-xl"], phases=["decode"], seq_len=[1024]).combos()[0]
    fam.result(Point("pim", "pim-gpt", xl, {}))
    _, wall, cpu = _timed(lambda: fam.result(Point("pim", "pim-gpt", xl, {"tokens": 1024})))
    rows += [{"benchmark": "pim_gpt2xl_decode", "metric": "wall_s_family_1024_tokens", "value": wall,
              "unit": "s/decode (family result, tokens=1024)"},
             {"benchmark": "pim_gpt2xl_decode", "metric": "cpu_s_family_1024_tokens", "value": cpu,
              "unit": "CPU s/decode"}]
    _, wall, cpu = _timed(lambda: [reproduce(m, 1024) for m in MODELS])
    rows += [{"benchmark": "pim_reproduce", "metric": "wall_s_8_models_1024_tokens", "value": wall,
              "unit": "s (pim --reproduce table, in process)"},
             {"benchmark": "pim_reproduce", "metric": "cpu_s_8_models_1024_tokens", "value": cpu,
              "unit": "CPU s"}]
    return rows


def engine_rows() -> list[dict]:
    plan = map_decode(lower("gpt2-xl", "decode", seq_len=1024))
    rows = []
    _, wall, _ = _timed(lambda: token_run(plan, 1024, "fast"))
    rows.append({"benchmark": "pim_gpt2xl_token", "metric": "wall_s_fast_full_token", "value": wall,
                 "unit": "s/token"})
    steps = plan.steps(1024)
    layer0 = [s for s, r in zip(steps, plan.table.itertuples()) if r.layer == 0]
    std, ch = plan.system.standard, plan.system.channels
    for name, engine in (("fast", run_fast), ("event", run_event)):
        kwargs = {"record": False} if name == "event" else {}
        _, dt, _ = _timed(lambda: engine(std, layer0, ch, **kwargs))
        rows.append({"benchmark": "pim_gpt2xl_token", "metric": f"wall_s_{name}_one_layer",
                     "value": dt, "unit": "s/layer"})
        rows.append({"benchmark": "pim_gpt2xl_token", "metric": f"wall_s_{name}_per_token_scaled",
                     "value": dt * plan.layers, "unit": "s/token (one layer x 48)"})
    _, wall, _ = _timed(lambda: AnalyticRunner(std, ch).run(steps))
    rows.append({"benchmark": "pim_gpt2xl_token", "metric": "wall_s_analytic_full_token", "value": wall,
                 "unit": "s/token (idle start)"})
    return rows


def run(quick: bool = False) -> list[dict]:
    return sweep_rows() + ([] if quick else engine_rows())


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv[1:]):
        print(r)
