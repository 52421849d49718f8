"""Cycle-level model of one attention layer (all heads, whole batch) on a FuseMax-style accelerator:
a 2D PE array, a 1D PE array, a global buffer and off-chip memory, running a mapper's plan.

What is modeled
* Work per tile comes from the attention cascade of the design's softmax variant (``rates``):
  each Einsum's operations per (query, key) pair times the pairs the plan computes, on the array
  the design binds that Einsum to (``dataflows``; e.g. FuseMax runs QK, the local max, exp, local
  sum, SLNV, SPNV and RNV on the 2D array, unfused/FLAT/FA2 all softmax Einsums on the 1D array).
* A job (a (q, kv) tile, or for FLAT and the softmax passes a block of query rows) occupies:
  off-chip memory (its share of the plan's exact off-chip traffic), the 2D array
  (``ceil(slots / usable PEs)``; a job with fewer than ``rows`` query rows leaves rows idle) and
  the 1D array (``ceil(slots / width)``); an array operation lasts at least its share of the
  job's global-buffer bytes at ``buffer_bytes_per_cycle``. ``pipeline.simulate_uniform`` (proven
  equal to the event-driven ``pipeline.simulate``) schedules the jobs in the dataflow's order.
* Issue slots: FuseMax's exp takes 7 PE cycles (6 MACs + 1 add); unfused/FLAT/FA2's 1D array is
  FLAT's pipelined softmax unit (one step per output element of each element-wise Einsum).
  ``ArrayResult.ops_2d``/``ops_1d`` are these PE cycles of work.
* Heads and batch entries run one after another (the pipeline drains between them).
* Energy: operation, buffer, register-file and DRAM actions × ``energy.yaml``. Register files:
  two reads and one write per array operation (assumption). Leakage is not modeled.
* Causal masks: the plan's ``tiles`` and ``pairs`` are what the mapping computes (FA2 and FuseMax
  skip fully masked tiles; FLAT and unfused are planned as their bidirectional twin). Per-row
  work (the final division) is scaled with the computed pairs (≤ 1/head_dim of the per-pair work).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sim.attention_array.arch import ArraySpec, EnergyTable, load_energy_table
from sim.attention_array.dataflows import Dataflow, Stage, StageContext, dataflow
from sim.attention_array.pipeline import simulate_uniform
from sim.attention_array.plan import AttentionPlan, EndToEnd
from sim.attention_array.rates import pair_rates
from sim.attention_array.schedules import DEFAULT_WINDOW_JOBS, ORDERS, WINDOW_JOBS, StageCycles


@dataclass(frozen=True)
class StageRow:
    """One pass (stage) of a design: cycles and the utilization of each array during it."""

    stage: str
    cycles: int
    util_2d: float
    util_1d: float
    offchip_bytes: int


@dataclass(frozen=True)
class ArrayResult(EndToEnd):
    """Simulated attention layer (all heads, whole batch) on one design; ``linear_*`` are the
    layer's other Einsums when a caller adds them (``sim.attention_array.simulate`` rows)."""

    design: str
    plan: AttentionPlan
    arch: ArraySpec
    cycles: int
    ops_2d: float
    ops_1d: float
    stages: tuple[StageRow, ...]
    actions: dict[str, float]
    energy_pj_by_action: dict[str, float]
    linear_cycles: float = 0.0
    linear_energy_pj: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def layer(self) -> Any:
        """The mapper's layer spec (``mappers.attention.AttentionLayer``) the plan was made for."""
        return self.plan.mapping.layer

    @property
    def mapping(self) -> Any:
        """The mapper's loop nests (``mappers.attention.AttentionMapping``)."""
        return self.plan.mapping

    @property
    def lower_bound_bytes(self) -> float:
        return self.plan.lower_bound_bytes

    @property
    def traffic_bytes(self) -> int:
        """Exact off-chip bytes (the mapper's closed form, proven equal to its loop-nest counter)."""
        return self.plan.traffic_bytes

    @property
    def energy_pj(self) -> float:
        return sum(self.energy_pj_by_action.values())

    @property
    def util_2d(self) -> float:
        return self.ops_2d / (self.arch.pes_2d * self.cycles)

    @property
    def util_1d(self) -> float:
        return self.ops_1d / (self.arch.width_1d * self.cycles)

    @property
    def seconds(self) -> float:
        return self.cycles / self.arch.clock_hz


def _cyc(n: float, per_cycle: float) -> int:
    return math.ceil(n / per_cycle - 1e-9) if n > 0 else 0


def stage_cycles(stage: Stage, arch: ArraySpec) -> StageCycles:
    """Per-job cycles of a stage's operations: work over the usable PEs, at least the job's share
    of buffer bytes at the buffer's bandwidth; off-chip bytes at the off-chip bandwidth."""
    jobs, bw, gbw = stage.jobs, arch.offchip_bytes_per_cycle, arch.buffer_bytes_per_cycle
    share = stage.glb_bytes / jobs / (len(stage.slots_2d) + (1 if stage.slots_1d else 0))
    usable = min(stage.rows, arch.rows_2d) * min(stage.cols, arch.cols_2d)
    on_2d = tuple(max(_cyc(o / jobs, usable), _cyc(share, gbw)) for o in stage.slots_2d)
    on_1d = max(_cyc(stage.slots_1d / jobs, arch.width_1d), _cyc(share, gbw)) if stage.slots_1d else 0
    parts = tuple(_cyc(x / jobs, bw) for x in stage.dram_split)
    return StageCycles(_cyc(stage.dram_bytes / jobs, bw), on_2d, on_1d, parts)


def run_stage(stage: Stage, arch: ArraySpec, instances: int) -> StageRow:
    """Schedule one stage's jobs through the pipeline; all instances one after another."""
    make = ORDERS[stage.order](stage_cycles(stage, arch))
    res = simulate_uniform(make, stage.jobs, WINDOW_JOBS.get(stage.order, DEFAULT_WINDOW_JOBS))
    cycles = res.cycles * instances
    o2, o1 = sum(stage.slots_2d) * instances, stage.slots_1d * instances
    return StageRow(stage.name, cycles, o2 / (arch.pes_2d * cycles) if cycles else 0.0,
                    o1 / (arch.width_1d * cycles) if cycles else 0.0, int(stage.dram_bytes * instances))


def energy_actions(ctx: StageContext, glb_bytes: float, energy: EnergyTable) -> dict[str, float]:
    """Action counts of the layer: its Einsums' operations, two register-file reads and one write
    per operation, off-chip bytes per DRAM access, buffer bytes half read and half written."""
    df, plan, inst = ctx.dataflow, ctx.plan, ctx.instances
    actions: dict[str, float] = {}
    for name in df.einsums:
        kinds = ctx.rates.kinds((name,), plan.pairs)
        for kind, n in kinds.items():
            key = df.energy_kind(kind, kinds)
            if key is not None:
                actions[key] = actions.get(key, 0.0) + n * inst
    n_ops = sum(ctx.rates.kinds(df.einsums, plan.pairs).values())
    actions["rf_read"] = 2 * n_ops * inst
    actions["rf_write"] = n_ops * inst
    actions["dram_access"] = plan.traffic_bytes / energy.bytes_per_action["dram_access"]
    actions["glb_read"] = glb_bytes / 2 / energy.bytes_per_action["glb_read"]
    actions["glb_write"] = glb_bytes / 2 / energy.bytes_per_action["glb_write"]
    return actions


def context(plan: AttentionPlan, arch: ArraySpec) -> StageContext:
    """The plan with its dataflow and the per-pair rates of the dataflow's cascade (K/V blocks of
    the plan's kv tile; ``n`` = the query length when it equals the key length, else the key length)."""
    df: Dataflow = dataflow(plan.design)
    s = plan.shape
    n = s.n_q if s.n_q == s.n_kv else s.n_kv
    rates = pair_rates(df.variant, s.heads, s.kv_heads, s.head_dim, n, s.masked_scores, plan.kv_tile)
    return StageContext(df, plan, arch, rates)


def simulate_attention(plan: AttentionPlan, arch: ArraySpec, energy: EnergyTable | None = None) -> ArrayResult:
    """Simulate one attention layer under ``plan`` (see the module docstring)."""
    energy = energy or load_energy_table()
    ctx = context(plan, arch)
    inst = ctx.instances
    stages = ctx.dataflow.stages(ctx)
    rows = tuple(run_stage(s, arch, inst) for s in stages)
    glb_bytes = sum(s.glb_bytes for s in stages) * inst
    actions = energy_actions(ctx, glb_bytes, energy)
    df = ctx.dataflow
    return ArrayResult(plan.design, plan, arch, sum(r.cycles for r in rows), ctx.slots("2d", df.on_2d) * inst,
                       ctx.slots("1d", df.on_1d) * inst, rows, actions, energy.energy_pj(actions))
