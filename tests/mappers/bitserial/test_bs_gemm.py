"""GEMM extraction and schedule traffic."""
import numpy as np

from experiments.reproductions.bitmod import run_task, totals
from mappers.bitserial.gemm import Gemm, model_gemms
from mappers.bitserial.schedule import buffer_blocks, tile_schedule
from sim.bitserial.presets import accelerator


def test_bs_gemms_cover_linear_and_attention():
    gemms = model_gemms("llama-2-7b", "prefill", 256, 1)
    groups = [g.group for g in gemms]
    assert groups.count("attention") == 2 and "lm_head" in groups
    qk = next(g for g in gemms if g.name.endswith("QK"))
    assert (qk.batch, qk.m_tokens, qk.k_reduce, qk.n_out) == (32, 256, 128, 256)
    q = next(g for g in gemms if g.group == "qkv")
    assert (q.m_tokens, q.k_reduce, q.n_out) == (256, 4096, 4096)


def test_bs_schedule_moves_each_operand_at_least_once():
    acc = accelerator("ant", "discriminative", "llama-2-7b")
    g = Gemm("t", "mlp", 0, 1, 256, 4096, 11008)
    s = tile_schedule(g, acc)
    blk = buffer_blocks(g, acc)
    w, i, o = 11008 * 4096 * 5 / 8, 256 * 4096 * 2, 256 * 11008 * 2
    assert np.isclose(s["load_bytes"].sum(), w * blk.weight_fetches + i * blk.input_fetches, rtol=1e-6)
    assert np.isclose(s["store_bytes"].sum(), o)
    assert s["array_steps"].sum() == 4096 * np.ceil(11008 / 32) * (256 // 32)


def test_bs_cycle_mode_decode_is_bandwidth_bound():
    t = totals(run_task("opt-1.3b", "bitmod-lossy", "generative", "cycle", layers=1))
    assert t["stall_cycles"] > 0
    assert abs(t["fill_cycles"] + t["compute_cycles"] + t["stall_cycles"] + t["drain_cycles"] - t["cycles"]) < 1e-6 * t["cycles"] + 100
