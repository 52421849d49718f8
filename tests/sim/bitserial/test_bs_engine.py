"""Array model: closed form when nothing stalls; stalls when bandwidth-bound (decode)."""
import math

from mappers.bitserial.gemm import Gemm
from mappers.bitserial.schedule import tile_schedule
from sim.bitserial.engine import step_schedule
from sim.bitserial.paper import paper_gemm
from sim.bitserial.presets import accelerator


def test_bs_engine_closed_form_without_stalls():
    comp, load, store = [100, 100, 100, 100], [640, 320, 320, 320], [32, 32, 32, 64]
    br = step_schedule(comp, load, store, 32.0)
    assert br.stall_cycles == 0
    assert br.cycles == 640 / 32 + 400 + 64 / 32
    assert math.isclose(br.fill_cycles + br.compute_cycles + br.stall_cycles + br.drain_cycles, br.cycles)


def test_bs_prefill_gemm_compute_bound_matches_closed_form():
    acc = accelerator("bitmod-lossy", "discriminative", "llama-2-7b")
    g = Gemm("t", "mlp", 0, 1, 128, 1024, 256)  # weights and inputs fit: one step
    s = tile_schedule(g, acc)
    br = step_schedule(s["compute_cycles"], s["load_bytes"], s["store_bytes"], acc.dram.bytes_per_cycle)
    steps = math.ceil(1024 / 4) * math.ceil(256 / 32) * math.ceil(128 / 32)
    w_bytes, i_bytes, o_bytes = 256 * 1024 * acc.weight_bits / 8, 128 * 1024 * 2, 128 * 256 * 2
    closed = (w_bytes + i_bytes) / 32 + steps * 2 + o_bytes / 32
    assert br.stall_cycles == 0 and br.cycles == math.ceil(closed)


def test_bs_decode_stalls_at_bandwidth_bound():
    acc = accelerator("bitmod-lossy", "generative", "llama-2-7b")
    g = Gemm("t", "mlp", 0, 1, 1, 4096, 4096)
    s = tile_schedule(g, acc)
    br = step_schedule(s["compute_cycles"], s["load_bytes"], s["store_bytes"], acc.dram.bytes_per_cycle)
    assert br.stall_cycles > 0.3 * br.cycles
    dram = 4096 * 4096 * acc.weight_bits / 256
    bus = (s["load_bytes"].sum() + s["store_bytes"].sum()) / acc.dram.bytes_per_cycle
    # bandwidth-bound: the bus never idles, so only the last step's compute is exposed
    assert dram <= bus <= br.cycles <= math.ceil(bus + s["compute_cycles"][-1])
    assert paper_gemm(g, acc)["cycles"] == int((4096 * 4096 * acc.weight_bits / 8 + 4096 * 2 + 4096 * 2) * 8 / 256)


def test_bs_decode_speedup_over_fp16_is_bit_ratio():
    g = Gemm("t", "mlp", 0, 1, 1, 4096, 4096)
    fp = paper_gemm(g, accelerator("fp16", "generative", "llama-2-7b"))["cycles"]
    bm = paper_gemm(g, accelerator("bitmod-lossy", "generative", "llama-2-7b"))["cycles"]
    assert abs(fp / bm - 16 / 3.0625) / (16 / 3.0625) < 0.01
