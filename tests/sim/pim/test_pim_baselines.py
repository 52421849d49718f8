"""What the paper's speedup bands imply about its baselines: the inverse of the eager model."""
import pytest

from sim import roofline
from sim.pim.baselines import (
    PAPER_SPEEDUP,
    T4,
    eager_decode,
    implied_baseline,
    implied_overhead_s,
    kernel_latencies_s,
    nocache_roofline_ms,
    offchip_bytes_per_step,
)
from workloads import lower

CASCADE = lower("gpt2", "decode", seq_len=64)


def test_implied_overhead_on_hand_example():
    # kernels 1, 2, 6 us: at o = 3 us the step takes 3 + 3 + 6 = 12 us; at o = 7 us, 21 us
    assert implied_overhead_s([2e-6, 6e-6, 1e-6], 12e-6) == pytest.approx(3e-6)
    assert implied_overhead_s([2e-6, 6e-6, 1e-6], 21e-6) == pytest.approx(7e-6)
    assert implied_overhead_s([2e-6, 6e-6, 1e-6], 9e-6) == pytest.approx(1e-6)  # any o <= 1 us; the largest
    assert implied_overhead_s([2e-6, 6e-6, 1e-6], 8e-6) is None


@pytest.mark.parametrize("latency_s", [2e-3, 7e-3, 25e-3])
def test_implied_overhead_makes_the_eager_model_take_that_long(latency_s):
    o = implied_overhead_s(kernel_latencies_s(CASCADE, T4), latency_s)
    assert eager_decode(CASCADE, T4, o)["latency_s"] == pytest.approx(latency_s, rel=1e-12)


def test_implied_columns_follow_the_band():
    out = implied_baseline(CASCADE, T4, "gpu", 0.2)
    traffic = offchip_bytes_per_step(CASCADE, T4)
    for end, band in zip(("lo", "hi"), PAPER_SPEEDUP["gpu"]):
        assert out[f"gpu_band_latency_ms_{end}"] == pytest.approx(0.2 * band)
        assert out[f"gpu_implied_bandwidth_gbps_{end}"] == pytest.approx(
            traffic / (0.2e-3 * band) / 1e9)
    assert out["gpu_implied_overhead_us_lo"] < out["gpu_implied_overhead_us_hi"]


def test_nocache_hypothesis_recomputes_the_context():
    one = roofline.simulate_cascade(lower("gpt2", "prefill", seq_len=1), T4).latency_s * 1e3
    assert nocache_roofline_ms("gpt2", 1, T4) == pytest.approx(one)
    last = roofline.simulate_cascade(lower("gpt2", "prefill", seq_len=64), T4).latency_s * 1e3
    assert one < nocache_roofline_ms("gpt2", 64, T4) < last
