"""The analytic path equals `run_fast` and `run_event`: cycles, per-step timings, command counts."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappers.pim import map_decode
from sim.dram.spec import load_standard
from sim.pim.analytic import AnalyticRunner, PimTiming, channel_runs, run_analytic
from sim.pim.engine import breakdown_of, run_event, run_fast
from sim.pim.stream import AsicStep, PimRuns, PimStep, Tile
from workloads import lower

STD = load_standard("GDDR6-AiM")
PLAN = map_decode(lower("gpt2", "decode", seq_len=1024))


def _timings(run):
    return [(s.name, s.kind, s.start_cycle, s.end_cycle, s.refresh_cycles, s.transfer_cycles)
            for s in run.steps]


def _same(a, b):
    assert a.cycles == b.cycles
    assert a.counts == b.counts
    assert _timings(a) == _timings(b)


def test_latencies_come_from_the_timing_table():
    t = PimTiming.from_standard(STD)
    lat = {(a, b): c for a, row in enumerate(t.latency) for b, c in row}
    # ACT_AB -> MAC_AB is tRCD, MAC_AB -> RD_MAC tMACLAT, REF -> ACT_AB tRFC, PRE_AB -> ACT_AB tRP
    assert lat[(1, 2)] == STD.timing("nRCDRD")
    assert lat[(2, 3)] == STD.timing("nMACLAT")
    assert lat[(5, 1)] == STD.timing("nRFC")
    assert lat[(4, 1)] == STD.timing("nRP")
    assert t.spacing[2] == STD.timing("nMAC")


def test_every_step_of_gpt2_tokens_matches_fast_path():
    # kv 63/64/65: score tiling (16 banks) boundary; 511, 1023: long context, GB chunk edge;
    # each token's ~0.13 ms spans ~70 refresh intervals, so REFs land at many tile phases
    for kv in (1, 63, 64, 65, 511, 1023):
        steps = PLAN.steps(kv)
        fast, ana = run_fast(STD, steps, PLAN.system.channels), run_analytic(STD, steps, PLAN.system.channels)
        assert ana.counts.get("REF", 0) > 0
        _same(ana, fast)


def test_steps_one_by_one_and_without_refresh_match_fast_path():
    steps = PLAN.steps(65)
    pim = [s for s in steps if isinstance(s, PimStep)]
    for s in {tuple(tuple(t.signature for t in tl) for tl in s.tiles): s for s in pim}.values():
        for refresh in (True, False):
            _same(run_analytic(STD, [s], PLAN.system.channels, refresh=refresh),
                  run_fast(STD, [s], PLAN.system.channels, refresh=refresh))


def test_one_layer_matches_event_engine_directly():
    steps = [s for s, r in zip(PLAN.steps(65), PLAN.table.itertuples()) if r.layer == 0]
    ev = run_event(STD, steps, PLAN.system.channels, record=False)
    assert ev.counts.get("REF", 0) > 0
    _same(run_analytic(STD, steps, PLAN.system.channels), ev)


def test_runs_steps_are_the_tile_steps_run_length_encoded():
    xl = map_decode(lower("gpt2-xl", "decode", seq_len=64))
    for plan, only in ((PLAN, None), (xl, tuple(range(40)) + (len(xl.table) - 1,))):
        for kv in (1, 15, 16, 17, 1025, 2049):
            tiles, runs = plan.steps(kv, only=only), plan.steps(kv, runs=True, only=only)
            assert [s.name for s in tiles] == [s.name for s in runs]
            for a, b in zip(tiles, runs):
                if isinstance(a, AsicStep):
                    assert a == b
                else:
                    assert isinstance(b, PimRuns)
                    assert b.runs == tuple(channel_runs(t) for t in a.tiles)


def test_runs_steps_time_like_tile_steps():
    steps = PLAN.steps(300)
    runs = PLAN.steps(300, runs=True)
    _same(run_analytic(STD, runs, PLAN.system.channels), run_fast(STD, steps, PLAN.system.channels))


def test_long_runs_with_many_refreshes_match_fast_path():
    # runs of hundreds of identical tiles: each REF is placed in closed form (episode), on
    # channels of different lengths (two state classes), with and without a run boundary
    a = Tile(0, 1, 64, 0)
    b = Tile(0, 1, 36, 36)
    c = Tile(0, 7, 4, 4)
    steps = [PimStep("w", ((a,) * 900 + (b,) * 300, (a,) * 901 + (b,) * 299, (a,) * 900 + (b,) * 300)),
             AsicStep("x", 5000),
             PimStep("s", ((c,) * 700, (c,) * 650, (c,) * 700))]
    for refresh in (True, False):
        _same(run_analytic(STD, steps, 3, refresh=refresh), run_fast(STD, steps, 3, refresh=refresh))
    runner = AnalyticRunner(STD, 3)
    first = runner.run(steps)
    again = runner.run(steps)
    whole = run_fast(STD, steps + steps, 3)
    assert first.cycles + again.cycles == whole.cycles
    assert _timings(first) + _timings(again) == _timings(whole)


def test_runner_carries_state_like_one_long_stream():
    steps = PLAN.steps(200)
    half = len(steps) // 2
    runner = AnalyticRunner(STD, PLAN.system.channels)
    a, b = runner.run(steps[:half]), runner.run(steps[half:])
    whole = run_fast(STD, steps, PLAN.system.channels)
    assert a.cycles + b.cycles == whole.cycles
    assert _timings(a) + _timings(b) == _timings(whole)


_tile = st.builds(lambda seg, macs, gb: (seg, macs, gb),
                  st.integers(1, 20), st.integers(1, 70), st.integers(0, 70))


@st.composite
def _streams(draw):
    channels = draw(st.integers(1, 3))
    steps = []
    row = 0
    for k in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            steps.append(AsicStep(f"a{k}", draw(st.integers(0, 9000)),
                                  draw(st.sampled_from(["asic", "transfer"]))))
            continue
        shapes = draw(st.lists(_tile, min_size=1, max_size=3))
        per_chan = []
        for _ in range(channels):
            tiles = []
            for _ in range(draw(st.integers(0, 4))):
                seg, macs, gb = draw(st.sampled_from(shapes))
                for _ in range(draw(st.integers(1, 30))):
                    tiles.append(Tile(row=row, segments=seg, macs_per_segment=macs, gb_bursts=gb))
                    row += 1
            per_chan.append(tuple(tiles))
        steps.append(PimStep(f"p{k}", tuple(per_chan)))
    return channels, steps


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_streams(), st.booleans())
def test_random_streams_match_fast_path(stream, refresh):
    channels, steps = stream
    _same(run_analytic(STD, steps, channels, refresh=refresh),
          run_fast(STD, steps, channels, refresh=refresh))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_streams(), st.integers(1, 3))
def test_random_streams_repeated_without_detail_match_fast_path(stream, repeat):
    # repeats hit the step memo at other refresh phases; detail=False only reports totals
    channels, steps = stream
    fast = run_fast(STD, steps * repeat, channels)
    runner = AnalyticRunner(STD, channels)
    runs = [runner.run(steps, detail=False) for _ in range(repeat)]
    assert sum(r.cycles for r in runs) == fast.cycles
    kinds = breakdown_of(fast.steps)
    assert {k: sum(r.breakdown[k] for r in runs) for k in kinds} == kinds
    total: dict[str, int] = {}
    for r in runs:
        for k, v in r.counts.items():
            total[k] = total.get(k, 0) + v
    assert total == fast.counts


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_streams())
def test_random_streams_match_event_engine(stream):
    channels, steps = stream
    _same(run_analytic(STD, steps, channels), run_event(STD, steps, channels, record=False))
