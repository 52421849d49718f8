"""FuseMax (Nayak et al., MICRO 2024, Sec. 5–6): the 1-pass cascade with QK, the local max, exp,
local sum, SLNV and the running-output correction (SPNV, RNV) on the 2D array and only the per-row
running statistics (RM, PRM, SPD, RD) and the final division on the 1D array. exp takes 7 PE
cycles (6 MACs + 1 add; artifact src/accel/proposal.py compute_cost of SLN and PRM). A job is one
(q, kv) tile: its 2D work, then its 1D work (``fused_2d_then_1d``); scores live in the PEs, so
the buffer moves only the off-chip operands (2 × the tile's off-chip bytes)."""
from sim.attention_array.dataflows.base import Dataflow, Stage, StageContext
from sim.attention_array.paper import fusemax_paper


def stages(ctx: StageContext) -> list[Stage]:
    dram = ctx.pass_dram()
    df, plan = ctx.dataflow, ctx.plan
    return [Stage("fused", plan.tiles, dram, 2 * dram, (ctx.slots("2d", df.on_2d),), ctx.slots("1d", df.on_1d),
                  plan.q_tile, plan.kv_tile, "fused_2d_then_1d")]


DATAFLOW = Dataflow(
    name="fusemax", variant="1pass",
    on_2d=("QK", "LM", "SLN", "SLD", "SLNV", "SPNV", "RNV"), on_1d=("RM", "PRM", "SPD", "RD", "AV"),
    stages=stages, exp_cycles=7, skips_masked_tiles=True, paper=fusemax_paper,
    source="Nayak et al., MICRO 2024, Sec. 5-6; FuseMax artifact src/accel/proposal.py")
