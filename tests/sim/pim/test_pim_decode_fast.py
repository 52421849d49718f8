"""The decode's fast path equals the per-step path it replaces.

* `AnalyticRunner.run_segments` (PIM step + following idle span as one memoized transition,
  closed-form idle REFs, due-interval step memo) equals `run` over the full step list, step by step:
  per-position cycles, refresh and bus cycles, cycle for cycle, on hypothesis-generated streams
  repeated at other refresh phases, long idle spans included; `run_fast` cross-checks the total.
* `sim.pim.simulate` on random small decodes (gpt2, 1-2 layers, channels, kv lengths, tokens,
  ASIC lanes) equals the former per-token path (`run` on every token's full step list, per-step
  timings summed per Einsum, counts from `step_counts` of every token's steps): cycles, refresh,
  bus cycles exactly, every energy and traffic column to rel 1e-12.
* `PimPlan.work_totals` equals the sums over `token_steps`, and `token_segments` is
  `token_steps` with each ASIC/transfer stretch summed.
"""
import dataclasses
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mappers.pim
from sim.dram.spec import load_standard
from sim.pim.analytic import AnalyticRunner
from sim.pim.energy import energy_parts_j, traffic_bytes
from sim.pim.engine import run_fast
from sim.pim.simulate import simulate
from sim.pim.spec import PimSystem
from sim.pim.stream import AsicStep, PimRuns, PimStep, Tile, step_counts
from workloads import lower

STD = load_standard("GDDR6-AiM")
_sig = st.tuples(st.integers(1, 20), st.integers(1, 8), st.integers(0, 8))


@st.composite
def _program(draw):
    """(channels, steps): PimRuns with runs of up to 900 identical tiles, and idle stretches of
    up to 3 ASIC/transfer steps (some far longer than nREFI) between them."""
    channels = draw(st.integers(1, 3))
    steps = []
    for k in range(draw(st.integers(1, 5))):
        for j in range(draw(st.integers(0, 3))):
            steps.append(AsicStep(f"a{k}.{j}", draw(st.one_of(st.integers(0, 500), st.integers(0, 40000))),
                                  draw(st.sampled_from(["asic", "transfer"]))))
        shapes = draw(st.lists(_sig, min_size=1, max_size=3))
        per_chan = []
        for _ in range(channels):
            runs = [(draw(st.sampled_from(shapes)), draw(st.integers(1, 900)))
                    for _ in range(draw(st.integers(0, 3)))]
            per_chan.append(tuple(runs))
        steps.append(PimRuns(f"p{k}", tuple(per_chan)))
    for j in range(draw(st.integers(0, 2))):
        steps.append(AsicStep(f"z{j}", draw(st.integers(0, 20000))))
    return channels, steps


def _tiles(steps):
    """PimRuns as PimStep (tiles) for `run_fast`."""
    return [s if isinstance(s, AsicStep) else
            PimStep(s.name, tuple(tuple(Tile(0, *sig) for sig, n in ch for _ in range(n)) for ch in s.runs))
            for s in steps]


def _segments(steps):
    lead, items = 0, []
    for i, s in enumerate(steps):
        if isinstance(s, AsicStep):
            if items:
                items[-1][2] += s.cycles
            else:
                lead += s.cycles
        else:
            items.append([i, s, 0])
    return lead, [tuple(x) for x in items]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_program(), st.integers(1, 4), st.booleans())
def test_run_segments_equals_run_step_by_step(program, repeat, refresh):
    channels, steps = program
    ref, fast = AnalyticRunner(STD, channels, refresh=refresh), AnalyticRunner(STD, channels, refresh=refresh)
    lead, items = _segments(steps)
    n = len(steps)
    total = 0
    for _ in range(repeat):
        run = ref.run(steps)
        cycles, rc, tc = [0] * n, [0] * n, [0] * n
        fast.run_segments(lead, items, cycles, rc, tc)
        for i, (s, t) in enumerate(zip(steps, run.steps)):
            if isinstance(s, AsicStep):
                assert cycles[i] == 0
                continue
            assert (cycles[i], rc[i], tc[i]) == (t.cycles, t.refresh_cycles, t.transfer_cycles)
        assert fast.now == ref.now and fast.refs == ref.refs
        total += run.cycles
    assert total == run_fast(STD, _tiles(steps) * repeat, channels, refresh=refresh).cycles



@st.composite
def _uneven_program(draw):
    """(channels, steps): 2-9 channels, each step's channels split into two groups with
    different run lists (one group possibly idle), so channels leave a step in different
    states (the multi-class fused memo of `run_segments`); the same steps repeat."""
    channels = draw(st.integers(2, 9))
    steps = []
    for k in range(draw(st.integers(1, 4))):
        split = draw(st.integers(1, channels - 1))
        a = tuple((draw(_sig), draw(st.integers(1, 300))) for _ in range(draw(st.integers(1, 2))))
        b = tuple((draw(_sig), draw(st.integers(1, 300))) for _ in range(draw(st.integers(0, 2))))
        steps.append(PimRuns(f"p{k}", (a,) * split + (b,) * (channels - split)))
        steps.append(AsicStep(f"a{k}", draw(st.one_of(st.integers(0, 300), st.integers(0, 20000)))))
    return channels, steps * draw(st.integers(1, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_uneven_program(), st.integers(1, 4), st.booleans())
def test_run_segments_multi_class_equals_run(program, repeat, refresh):
    channels, steps = program
    ref, fast = AnalyticRunner(STD, channels, refresh=refresh), AnalyticRunner(STD, channels, refresh=refresh)
    lead, items = _segments(steps)
    n = len(steps)
    for _ in range(repeat):
        run = ref.run(steps)
        cycles, rc, tc = [0] * n, [0] * n, [0] * n
        fast.run_segments(lead, items, cycles, rc, tc)
        for i, (s, t) in enumerate(zip(steps, run.steps)):
            if not isinstance(s, AsicStep):
                assert (cycles[i], rc[i], tc[i]) == (t.cycles, t.refresh_cycles, t.transfer_cycles)
        assert fast.now == ref.now and fast.refs == ref.refs


def _old_rows(mapping, plan, system):
    """The former simulate: `run` on every token's full step list, per-step timings summed per
    Einsum, counts from `step_counts` of every token's steps, energy row by row."""
    n = len(mapping.einsums)
    cycles, refresh, bus, asic = [0] * n, [0] * n, [0] * n, [0] * n
    counts = [{} for _ in range(n)]
    runner = AnalyticRunner(system.standard, system.channels)
    for token in range(plan.tokens):
        steps = plan.token_steps(token)
        for i, (s, t) in enumerate(zip(steps, runner.run(steps).steps)):
            cycles[i] += t.cycles
            if isinstance(s, AsicStep):
                asic[i] += t.cycles if s.category == "asic" else 0
                continue
            refresh[i] += t.refresh_cycles
            bus[i] += t.transfer_cycles
            for k, c in step_counts(s).items():
                counts[i][k] = counts[i].get(k, 0) + c
    tck = system.standard.tck_ns * 1e-9
    rows = []
    for i, m in enumerate(mapping.einsums):
        link = (m.offchip_bytes or 0.0) * plan.tokens if m.unit == "link" else 0.0
        row = {"cycles": cycles[i], "refresh_s": refresh[i] * tck, "bus_s": bus[i] * tck}
        row.update(energy_parts_j(counts[i], asic[i] * tck, link, system))
        row.update(traffic_bytes(counts[i], link, system))
        rows.append(row)
    return rows


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 2), st.integers(2, 300), st.integers(1, 40), st.integers(1, 9), st.integers(1, 32),
       st.sampled_from(["gpt2", "gpt3-125m"]))
def test_simulate_equals_the_per_token_path(layers, kv, tokens, channels, lanes, model):
    tokens = min(tokens, kv)
    cascade = lower(model, "decode", seq_len=kv, layers=layers)
    system = dataclasses.replace(PimSystem(), channels=channels, asic_lanes=lanes, decode_tokens=tokens)
    mapping = mappers.pim.map(cascade, system)
    new = simulate(mapping, system).rows
    old = _old_rows(mapping, mapping.plan, system)
    for i, row in enumerate(old):
        assert new["cycles"].iloc[i] == row["cycles"]
        for k, v in row.items():
            assert math.isclose(new[k].iloc[i], v, rel_tol=1e-12, abs_tol=0.0), (i, k)


def test_work_totals_and_segments_equal_the_token_steps():
    cascade = lower("gpt2", "decode", seq_len=70, layers=2)
    plan = mappers.pim.map_decode(cascade, PimSystem(channels=5, asic_lanes=3), tokens=70)
    asic, transfer, counts = plan.work_totals()
    n = len(plan.placements)
    want_asic, want_transfer, want_counts = [0] * n, [0] * n, [{} for _ in range(n)]
    for t in range(plan.tokens):
        steps = plan.token_steps(t)
        lead, items = plan.token_segments(t)
        # equal up to the steps' names (a kv-dependent step is shared by the Einsums of its shape)
        assert _segments(steps) == (lead, [(i, PimRuns(steps[i].name, s.runs), idle) for i, s, idle in items])
        for i, s in enumerate(steps):
            if isinstance(s, AsicStep):
                (want_asic if s.category == "asic" else want_transfer)[i] += s.cycles
                continue
            for k, c in step_counts(s).items():
                want_counts[i][k] = want_counts[i].get(k, 0) + c
    assert (asic, transfer, counts) == (want_asic, want_transfer, want_counts)
