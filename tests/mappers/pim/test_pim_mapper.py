"""PIM-GPT mapping: every MAC placed once, vector work on the ASIC, checker-clean streams."""

import pytest

from mappers.pim import gemv_tiles, map_decode
from sim.dram.checker import check_trace
from sim.pim.engine import run_event, run_fast
from sim.pim.spec import PimSystem
from workloads import lower


@pytest.mark.parametrize("model", ["gpt2", "gpt3-125m"])
def test_assignment_and_mac_coverage(model):
    cascade = lower(model, "decode", seq_len=128)
    plan = map_decode(cascade)
    t = plan.table
    assert set(t[t.unit == "pim"].group) <= {"qkv", "proj", "mlp", "lm_head", "attention"}
    assert set(t[t.unit == "link"].group) == {"kv_cache"}
    assert (t[t.unit == "asic"].group.isin(["norm", "residual", "embedding", "mlp", "attention",
                                             "qkv", "proj", "lm_head"])).all()
    assert t[t.unit == "pim"].macs.sum() == t[t.macs > 0].query("group != 'norm'").macs.sum()
    assert plan.kv_len == 128
    for row, step in zip(t[t.unit == "pim"].itertuples(),
                         [s for s in plan.steps(plan.kv_len) if hasattr(s, "tiles")]):
        lanes = sum(tl.segments * tl.macs_per_segment for ch in step.tiles for tl in ch) * 256
        assert lanes >= row.macs


def test_gemv_tiles_layout():
    sys = PimSystem()
    tiles = gemv_tiles(1600, 1600, sys)
    # 200 rows per channel -> 13 groups of 16 banks, two GB chunks (1024 + 576)
    assert len(tiles[0]) == 26
    assert tiles[0][0].macs_per_segment == 64 and tiles[0][13].macs_per_segment == 36
    assert tiles[0][0].gb_bursts == 64 and tiles[0][1].gb_bursts == 0


def test_small_model_token_checker_clean_and_fast_equal():
    cascade = lower("gpt2", "decode", seq_len=32)
    plan = map_decode(cascade)
    steps = [s for s in plan.steps(32) if not hasattr(s, "tiles") or "L0" in s.name][:40]
    std = plan.system.standard
    ev = run_event(std, steps, plan.system.channels)
    assert check_trace(std, ev.trace, max_postponed=0, end_cycle=ev.cycles) == []
    fast = run_fast(std, steps, plan.system.channels)
    assert (fast.cycles, fast.counts) == (ev.cycles, ev.counts)
