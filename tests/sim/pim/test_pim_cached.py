"""The step-cached fast path equals `run_fast` (itself proven equal to `run_event`) token by token."""
from mappers.pim import map_decode
from sim.pim.cached import StepCache, run_cached
from sim.pim.engine import run_fast
from workloads import lower


def _timings(run):
    return [(s.start_cycle, s.end_cycle, s.refresh_cycles, s.transfer_cycles) for s in run.steps]


def test_cached_equals_fast_over_kv_lengths_sharing_one_cache():
    plan = map_decode(lower("gpt2", "decode", seq_len=512))
    std, channels = plan.system.standard, plan.system.channels
    cache = StepCache()
    # kv lengths around the score tiling boundaries (16 banks x 16 keys per row = 256 keys) and
    # the 1,024-element GB chunk of the context GEMV; refresh falls at a different phase each time
    for kv in (1, 255, 256, 257, 511):
        steps = plan.steps(kv)
        cached, fast = run_cached(std, steps, channels, cache), run_fast(std, steps, channels)
        assert cached.cycles == fast.cycles
        assert cached.counts == fast.counts and cached.counts.get("REF", 0) > 0
        assert _timings(cached) == _timings(fast)
    assert cache.hits > 0
