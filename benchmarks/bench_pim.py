"""Wall seconds per simulated GPT-2 XL decode token (kv 1024) for each PIM engine.

* `fast`: the full token (48 layers + LM head, every channel, refresh on) on `run_fast`.
* `event`: the event-driven reference (`run_event`, simpy, one event per command, no trace) on a
  reduced stream -- the steps of ONE transformer layer of the same token -- scaled by the number of
  layers to a per-token figure, because the full token takes minutes on the event engine. The
  fast path is timed on the same reduced stream too, so the ratio of the two is measured.
* `analytic`: `sim.pim.analytic` (proven equal to both engines) on the same full token, from an
  idle system and as the mean over tokens kv 1000-1007 carried in one runner; and the whole
  1,024-token GPT-2 XL decode summed token by token (`experiments.reproductions.pim_gpt.decode_totals`: step
  building included, run-length steps, ASIC stretches summed, step memo; wall and CPU seconds --
  the CPU figure is the one less disturbed by other jobs on a shared machine).
"""
from __future__ import annotations

import time

from experiments.reproductions.pim_gpt import decode_totals, token_run
from mappers.pim import DecodeSteps, map_decode
from sim.pim.analytic import AnalyticRunner
from sim.pim.engine import run_event, run_fast
from workloads import lower


def run() -> list[dict]:
    plan = map_decode(lower("gpt2-xl", "decode", seq_len=1024))
    rows = []
    t0 = time.perf_counter()
    token_run(plan, 1024, "fast")
    rows.append({"benchmark": "pim_gpt2xl_token", "metric": "wall_s_fast_full_token",
                 "value": time.perf_counter() - t0, "unit": "s/token"})
    steps = plan.steps(1024)
    layer0 = [s for s, r in zip(steps, plan.table.itertuples()) if r.layer == 0]
    std, ch = plan.system.standard, plan.system.channels
    for name, engine in (("fast", run_fast), ("event", run_event)):
        kwargs = {"record": False} if name == "event" else {}
        t0 = time.perf_counter()
        engine(std, layer0, ch, **kwargs)
        dt = time.perf_counter() - t0
        rows.append({"benchmark": "pim_gpt2xl_token", "metric": f"wall_s_{name}_one_layer",
                     "value": dt, "unit": "s/layer"})
        rows.append({"benchmark": "pim_gpt2xl_token", "metric": f"wall_s_{name}_per_token_scaled",
                     "value": dt * plan.layers, "unit": "s/token (one layer x 48)"})
    t0 = time.perf_counter()
    AnalyticRunner(std, ch).run(steps)
    rows.append({"benchmark": "pim_gpt2xl_token", "metric": "wall_s_analytic_full_token",
                 "value": time.perf_counter() - t0, "unit": "s/token (idle start)"})
    build = DecodeSteps(plan)
    token_steps = [build(kv) for kv in range(1000, 1008)]
    runner = AnalyticRunner(std, ch)
    t0 = time.perf_counter()
    for s in token_steps:
        runner.run(s)
    rows.append({"benchmark": "pim_gpt2xl_token", "metric": "wall_s_analytic_per_token",
                 "value": (time.perf_counter() - t0) / 8,
                 "unit": "s/token (mean of 8, one runner, steps prebuilt)"})
    t0, c0 = time.perf_counter(), time.process_time()
    decode_totals(plan, 1024)
    rows.append({"benchmark": "pim_gpt2xl_decode", "metric": "wall_s_analytic_1024_tokens",
                 "value": time.perf_counter() - t0, "unit": "s/decode (1,024 tokens summed)"})
    rows.append({"benchmark": "pim_gpt2xl_decode", "metric": "cpu_s_analytic_1024_tokens",
                 "value": time.process_time() - c0, "unit": "CPU s/decode (1,024 tokens summed)"})
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
