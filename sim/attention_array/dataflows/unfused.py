"""Unfused attention: the 3-pass cascade, one Einsum group after another. On chip (one head's
Q, K, V, O and scores fit): one job in FLAT's software pipeline. Spilled: each loop nest of the
mapping is a stage — the matrix passes (QK, PV) stream (q, kv) tiles on the 2D array, the softmax
passes walk query-row blocks on the 1D array (the row-block softmax: ``softmax_rows`` whole
score rows at a time, the FuseMax artifact's src/accel/unfused.py)."""
import math

from sim.attention_array.dataflows.base import Dataflow, Stage, StageContext
from sim.attention_array.paper import unfused_paper

# The Einsums each pass (loop nest) of the mapping runs.
PASSES = {"qk": ("QK",), "max": ("GM",), "sum": ("SN", "SD"), "normalize": ("A",),
          "softmax": ("GM", "SN", "SD", "A"), "pv": ("AV",)}
MATRIX = ("QK", "AV")


def pass_stage(ctx: StageContext, index: int) -> Stage:
    plan, shape = ctx.plan, ctx.plan.shape
    name = plan.pass_bytes[index][0]
    names = PASSES[name]
    dram = ctx.pass_dram(index)
    if names[0] in MATRIX:
        return Stage(name, ctx.q_blocks * ctx.kv_blocks, dram, 2 * dram, (ctx.slots("2d", names),), 0.0,
                     plan.q_tile, plan.kv_tile, "2d")
    rows = plan.softmax_rows or plan.q_tile
    return Stage(name, math.ceil(shape.n_q / rows), dram, 2 * dram, (), ctx.slots("1d", names),
                 plan.q_tile, shape.n_kv, "1d")


def stages(ctx: StageContext) -> list[Stage]:
    plan = ctx.plan
    if len(plan.pass_bytes) > 1:
        return [pass_stage(ctx, i) for i in range(len(plan.pass_bytes))]
    dram = ctx.pass_dram()
    return [Stage("on_chip", 1, dram, 2 * dram + ctx.score_glb_bytes,
                  (ctx.slots("2d", ("QK",)), ctx.slots("2d", ("AV",))), ctx.slots("1d", ctx.dataflow.on_1d),
                  plan.q_tile, plan.shape.n_kv, "softpipe")]


DATAFLOW = Dataflow(
    name="unfused", variant="3pass", on_2d=("QK", "AV"), on_1d=("GM", "SN", "SD", "A"),
    stages=stages, pipelined_1d=True, paper=unfused_paper,
    source="Nayak et al., MICRO 2024, Sec. 3 (3-pass cascade); FuseMax artifact src/accel/unfused.py")
