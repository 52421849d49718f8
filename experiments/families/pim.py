"""The `pim` family: PIM-GPT (GDDR6-AiM channels + ASIC) on GPT decode, one token at kv = seq_len.

A point lowers the workload's model for decode at context `seq_len`, maps it with
`mappers.pim.map_decode` onto a `sim.pim.spec.PimSystem` built from the design parameters, and runs
one decode token at kv length `seq_len` on the analytic path (`sim.pim.analytic.run_analytic`,
proven equal to `run_fast` and the event-driven engine). Metrics: latency and energy of that
token, speedups over the T4 roofline and eager baselines (`sim.pim.baselines`), and the area the
PIM logic and ASIC add (`sim.pim.area`: `area_mm2` and its parts). Rows: one per simulated step
(Einsum).
Mapping `pim-gpt`: weight GEMVs and attention on PIM, vector functions on the ASIC.
"""
from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from mappers.pim import map_decode
from sim import roofline
from sim.pim.analytic import run_analytic
from sim.pim.area import pim_area_mm2
from sim.pim.baselines import BASELINES, DISPATCH_OVERHEAD_S, eager_decode
from sim.pim.reproduce import _energy_j
from sim.pim.spec import PimSystem
from workloads import lower

from . import Evaluation, Family


class PimParams(BaseModel):
    """Design parameters (defaults: `PimSystem`, the PIM-GPT configuration used here)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: int = Field(8, gt=0, description="GDDR6-AiM channels")
    asic_clock_mhz: float = Field(1000.0, gt=0, description="ASIC clock, MHz")
    asic_lanes: int = Field(16, gt=0, description="ASIC vector lanes")


def evaluate(point) -> Evaluation:
    """Latency/energy of one decode token at kv = seq_len and its speedups over the GPU baselines."""
    w, p = point.workload, PimParams(**point.params)
    system = PimSystem(channels=p.channels, asic_clock_hz=p.asic_clock_mhz * 1e6, asic_lanes=p.asic_lanes)
    cascade = lower(w["model"], "decode", seq_len=w["seq_len"], layers=w.get("layers"))
    plan = map_decode(cascade, system)
    run = run_analytic(system.standard, plan.steps(w["seq_len"], runs=True), system.channels)
    tck_s = system.standard.tck_ns * 1e-9
    latency = run.cycles * tck_s
    gpu = BASELINES["gpu"]
    metrics = {"latency_s": latency, "energy_j": float(_energy_j(run, plan, system)),
               "speedup_vs_gpu_roofline": roofline.simulate_cascade(cascade, gpu).latency_s / latency,
               "speedup_vs_gpu_eager": eager_decode(cascade, gpu, DISPATCH_OVERHEAD_S["gpu"])["latency_s"] / latency,
               **pim_area_mm2(system)}
    rows = pd.DataFrame([{"einsum": s.name, "kind": s.kind, "latency_s": s.cycles * tck_s,
                          "refresh_s": s.refresh_cycles * tck_s} for s in run.steps])
    return Evaluation(metrics=metrics, rows=rows)


FAMILY = Family(
    name="pim",
    params=PimParams,
    legacy_evaluate=evaluate,
    metrics=("latency_s", "energy_j", "speedup_vs_gpu_roofline", "speedup_vs_gpu_eager", "area_mm2",
             "area_pim_mac_mm2", "area_global_buffer_mm2", "area_asic_mm2"),
    mappings=("pim-gpt",),
    description="PIM-GPT: GDDR6-AiM in-bank GEMV + vector ASIC, one decode token (sim.pim analytic path)",
)
