"""FlashAttention-2 (Dao, ICLR 2024, Alg. 1) on the array: the 1-pass cascade, QK and SLNV on the
2D array, the online softmax (LM, RM, SLN, SLD, PRM, SPD, RD, SPNV, RNV, AV) on FLAT's pipelined
1D softmax unit. A job is one (q, kv) tile in the software pipeline QK of tile j+1 on the 2D array
while the 1D array normalizes tile j (``softpipe``); scores pass through the buffer."""
from sim.attention_array.dataflows.base import Dataflow, Stage, StageContext


def stages(ctx: StageContext) -> list[Stage]:
    dram = ctx.pass_dram()
    plan = ctx.plan
    return [Stage("fused", plan.tiles, dram, 2 * dram + ctx.score_glb_bytes,
                  (ctx.slots("2d", ("QK",)), ctx.slots("2d", ("SLNV",))), ctx.slots("1d", ctx.dataflow.on_1d),
                  plan.q_tile, plan.kv_tile, "softpipe")]


DATAFLOW = Dataflow(
    name="flashattention2", variant="1pass",
    on_2d=("QK", "SLNV"), on_1d=("LM", "RM", "SLN", "SLD", "PRM", "SPD", "RD", "SPNV", "RNV", "AV"),
    stages=stages, pipelined_1d=True, skips_masked_tiles=True,
    source="Dao, ICLR 2024, Alg. 1; 1D array: FLAT's softmax unit (FuseMax artifact src/accel/stable_softmax.py)")
