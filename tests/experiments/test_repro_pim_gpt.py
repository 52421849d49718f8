"""The PIM-GPT reproduction driver (`experiments.reproductions.pim_gpt`): a multi-token decode run
as one continuous stream on the analytic path equals the fast engine on the concatenated stream."""
from experiments.reproductions.pim_gpt import decode_runs
from mappers.pim import map_decode
from sim.pim.engine import breakdown_of
from workloads import lower


def _timings(run):
    return [(s.name, s.kind, s.start_cycle, s.end_cycle, s.refresh_cycles, s.transfer_cycles)
            for s in run.steps]


def _counts(runs) -> dict[str, int]:
    total: dict[str, int] = {}
    for r in runs:
        for k, v in r.counts.items():
            total[k] = total.get(k, 0) + v
    return total


def test_compact_decode_totals_equal_fast_path_on_concatenated_stream():
    # detail=False: ASIC stretches summed, steps memoized; totals must not move
    plan = map_decode(lower("gpt2", "decode", seq_len=16))
    tokens = 5
    ana = list(decode_runs(plan, tokens, "analytic", detail=False))
    (fast,) = decode_runs(plan, tokens, "fast")
    assert all(r.steps == [] for r in ana)
    assert sum(r.cycles for r in ana) == fast.cycles
    kinds = breakdown_of(fast.steps)
    assert {k: sum(r.breakdown[k] for r in ana) for k in kinds} == kinds
    assert _counts(ana) == fast.counts


def test_continuous_decode_matches_fast_path_on_concatenated_stream():
    plan = map_decode(lower("gpt2", "decode", seq_len=16))
    tokens = 6
    ana = list(decode_runs(plan, tokens, "analytic"))
    (fast,) = decode_runs(plan, tokens, "fast")
    assert sum(r.cycles for r in ana) == fast.cycles
    assert _timings(fast) == [t for r in ana for t in _timings(r)]
    assert _counts(ana) == fast.counts
