"""FLAT (Kao et al., ASPLOS 2023): the 3-pass cascade, QK and AV on the 2D array, the softmax
(GM, SN, SD, A) on its pipelined 1D unit (one step per output element; artifact
src/accel/stable_softmax.py). A job is a block of query rows whose whole score rows stay on chip
(``softpipe``: QK of block j+1 while the 1D array normalizes block j, then its AV); when a block's
rows do not fit, scores spill (``softpipe_spill``, three blocks in flight: the K sweep of block j,
the softmax read-back of j − 1, the V sweep of j − 2; the three blocks must fit the buffer)."""
from sim.attention_array.dataflows.base import Dataflow, Stage, StageContext
from sim.attention_array.paper import flat_paper
from workloads.errors import SpecError

# Spilled FLAT keeps three query blocks in flight; its per-block footprint (Q, O, statistics, one
# score and one probability tile) must fit three times.
SPILL_WINDOW_JOBS = 3


def stages(ctx: StageContext) -> list[Stage]:
    plan, inst = ctx.plan, ctx.instances
    dram = ctx.pass_dram()
    operands = 2 * dram + ctx.score_glb_bytes
    matrix = (ctx.slots("2d", ("QK",)), ctx.slots("2d", ("AV",)))
    softmax = ctx.slots("1d", ctx.dataflow.on_1d)
    if plan.spill_bytes is None:
        return [Stage("fused", ctx.q_blocks, dram, operands, matrix, softmax, plan.q_tile, plan.shape.n_kv,
                      "softpipe")]
    if SPILL_WINDOW_JOBS * plan.footprint_bytes > ctx.arch.buffer_bytes:
        raise SpecError("spilled FLAT: three query blocks do not fit the buffer")
    return [Stage("fused_spill", ctx.q_blocks, dram, operands, matrix, softmax, plan.q_tile, plan.shape.n_kv,
                  "softpipe_spill", tuple(x / inst for x in plan.spill_bytes))]


DATAFLOW = Dataflow(
    name="flat", variant="3pass", on_2d=("QK", "AV"), on_1d=("GM", "SN", "SD", "A"),
    stages=stages, pipelined_1d=True, paper=flat_paper,
    source="Kao et al., ASPLOS 2023; FuseMax artifact src/accel/flat.py, data/pregenerated/flat_validation.csv")
