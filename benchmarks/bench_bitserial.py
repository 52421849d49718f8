"""Cycle-mode throughput: matrix Einsums (layers) of LLaMA-2-7B (2 decoder layers + LM head,
prefill 256) simulated per wall-clock second on BitMoD-lossy, schedule building and stepping
included."""
from __future__ import annotations

import time

from mappers.bitserial import gemm_plan, model_gemms
from sim.bitserial.cycle import cycle_gemm
from sim.bitserial.presets import accelerator


def run() -> list[dict]:
    gemms = model_gemms("llama-2-7b", "prefill", 256, 2)
    acc = accelerator("bitmod-lossy", "discriminative", "llama-2-7b")
    start = time.perf_counter()
    for g in gemms:
        cycle_gemm(gemm_plan(g, acc), acc)
    wall = time.perf_counter() - start
    return [{"benchmark": "bitserial_cycle_llama2_7b_prefill", "metric": "layers_per_s",
             "value": len(gemms) / wall, "unit": "layers/s"}]
