"""The compiled `fast` engine against the simpy reference: the same commands at the same cycles
and the same statistics, on fixed cases and on hypothesis-drawn standards, mappings, read/write
mixes, arrival patterns, page policies and refresh modes; its traces pass the timing checker."""
import json

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.cli import main
from sim.dram import (TraceEntry, available_standards, capacity_bytes, check_trace,
                      load_standard, simulate, synthetic)
from sim.dram.address import AddressMapping
from sim.dram.controller import ControllerConfig
from sim.dram.fast import decode_arrays
from sim.dram.spec import STANDARDS_DIR, parse_standard
from sim.dram.stats import latency_summary
from sim.dram.system import simulate_stream
from sim.dram.trace import entry_chunks, synthetic_chunks
from workloads.errors import SpecError

MAPPINGS = ["RoRaBaCoBgCh", "RoCoBaBgRaCh", "RoBaRaCoCh", "ChRaBgBaRoCo", "RoCoBaRaCh"]


def assert_same(std, entries, **kw):
    """Reference (simpy) and fast runs of `entries` agree on every command and statistic; the
    fast engine's trace passes the checker."""
    ref = simulate(std, entries, engine="simpy", **kw)
    fast = simulate(std, entries, engine="fast", **kw)
    assert fast.trace == ref.trace
    assert fast.to_dict() == ref.to_dict() | {"engine": "fast"}
    # a channel stops (and stops refreshing) when its own requests are served: check each
    # channel's refresh cadence up to its last command
    for ch in {c.channel for c in fast.trace}:
        mine = [c for c in fast.trace if c.channel == ch]
        assert check_trace(std, mine, end_cycle=mine[-1].cycle, max_postponed=0,
                           check_refresh=kw.get("refresh", "all_bank") != "none") == []
    return fast


def controller_standards():
    """The shipped standards the request controller can drive (PIM-only ones lack RD/WR)."""
    needed = {"ACT", "PRE", "RD", "WR", "RDA", "WRA"}
    return [n for n in available_standards() if needed <= set(load_standard(n).commands)]


@pytest.mark.parametrize("name", controller_standards())
@pytest.mark.parametrize("pattern, policy, refresh", [
    ("stream", "open", "all_bank"), ("random", "closed", "all_bank"),
    ("random", "open", "none"), ("strided", "open", "per_bank")])
def test_fast_engine_matches_reference_on_every_standard(name, pattern, policy, refresh):
    std = load_standard(name)
    if refresh == "per_bank" and std.refresh.per_bank_command is None:
        refresh = "all_bank"
    entries = synthetic(pattern, 900, std.organization.burst_bytes, capacity_bytes(std), seed=7,
                        stride_bytes=4096, write_fraction=0.35)
    assert_same(std, entries, policy=policy, refresh=refresh)


def test_two_ranks_and_no_prea_standard():
    """Sibling rows across ranks, and all-bank refresh closing banks one PRE at a time when the
    standard has no PREA."""
    raw = yaml.safe_load((STANDARDS_DIR / "DDR4-3200.yaml").read_text())
    raw["organization"]["ranks"] = 2
    two = parse_standard(raw, "two ranks")
    entries = synthetic("random", 700, 64, capacity_bytes(two), seed=5, write_fraction=0.3)
    assert {c.rank for c in assert_same(two, entries).trace} == {0, 1}
    del raw["commands"]["PREA"]
    raw["constraints"] = [r for r in raw["constraints"] if "PREA" not in (r[2] + " " + r[3])]
    no_prea = parse_standard(raw, "no PREA")
    spread = [TraceEntry(e.address, e.is_write, i * 40) for i, e in enumerate(entries)]
    fast = assert_same(no_prea, spread, refresh="all_bank")
    assert "REF" in fast.command_counts


def test_arrivals_full_queues_and_small_watermarks():
    std = load_standard("HBM2")
    rng = np.random.default_rng(1)
    gaps = rng.integers(0, 30, size=600)
    entries = [TraceEntry(int(a) * 32, bool(w), int(t)) for a, w, t in
               zip(rng.integers(0, capacity_bytes(std) // 32, size=600), rng.random(600) < 0.5,
                   np.cumsum(gaps))]
    cfg = ControllerConfig(read_queue_size=4, write_queue_size=6, write_high_watermark=0.5,
                           write_low_watermark=0.0)
    assert_same(std, entries, config=cfg)


def test_unsorted_arrivals_are_sorted_like_the_reference():
    std = load_standard("DDR4-3200")
    entries = [TraceEntry(i * 64 * 97, i % 2 == 0, (i * 37) % 200) for i in range(300)]
    assert_same(std, entries)
    with pytest.raises(SpecError, match="arrival order"):
        simulate_stream(std, entry_chunks(entries))


def test_streaming_chunks_and_trace_off_give_the_same_statistics():
    std = load_standard("GDDR6")
    args = ("random", 5000, std.organization.burst_bytes, capacity_bytes(std))
    entries = synthetic(*args, seed=2, write_fraction=0.2)
    whole = simulate(std, entries, engine="fast")
    chunked = simulate_stream(std, synthetic_chunks(*args, seed=2, write_fraction=0.2, chunk=777))
    assert chunked.trace == ()
    assert chunked.to_dict() == whole.to_dict()
    traced = simulate_stream(std, synthetic_chunks(*args, seed=2, write_fraction=0.2, chunk=333),
                             trace=True)
    assert traced.trace == whole.trace


def test_latency_summary_equals_numpy_on_the_values():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 7, 100, 1001):
        values = rng.integers(0, 50, size=n)
        hist = np.bincount(values)
        expected = (values.mean(), np.percentile(values, 50), np.percentile(values, 99))
        assert latency_summary(hist) == tuple(float(x) for x in expected)
    assert latency_summary(np.zeros(0, np.int64)) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_vector_decode_equals_scalar_decode(mapping):
    std = load_standard("HBM2")
    amap = AddressMapping.parse(mapping, std.organization)
    addresses = np.random.default_rng(3).integers(0, 2 * capacity_bytes(std), size=300)
    values = decode_arrays(amap, addresses.astype(np.uint64))
    for i, a in enumerate(addresses.tolist()):
        d = amap.decode(a)
        assert (d.channel, d.rank, d.bankgroup, d.bank, d.row, d.column) == tuple(
            int(values[k][i]) for k in ("Ch", "Ra", "Bg", "Ba", "Ro", "Co"))


def test_cli_fast_engine(capsys):
    args = ["dram", "--standard", "HBM2", "--synthetic", "random", "--requests", "400",
            "--write-fraction", "0.3", "--format", "json"]
    assert main(args + ["--engine", "fast"]) in (0, None)
    fast = json.loads(capsys.readouterr().out)
    assert main(args + ["--engine", "simpy"]) in (0, None)
    ref = json.loads(capsys.readouterr().out)
    assert fast["checker_violations"] == 0
    assert fast == ref | {"engine": "fast"}


def test_cli_fast_engine_streams_a_trace_file(tmp_path, capsys):
    lines = [f"{hex(i * 4160 % (1 << 30))} {'W' if i % 3 == 0 else 'R'} {i * 7}" for i in range(500)]
    path = tmp_path / "t.trace"
    path.write_text("# a comment\n" + "\n".join(lines) + "\n")
    args = ["dram", "--standard", "DDR4-3200", "--trace", str(path), "--format", "json"]
    outs = []
    for engine in ("fast", "loop"):
        assert main(args + ["--engine", engine]) in (0, None)
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[0] == outs[1] | {"engine": "fast"}
    assert main(args + ["--engine", "fast", "--max-requests", "10"]) == 2
    assert "raise --max-requests" in capsys.readouterr().err


@st.composite
def workloads(draw, max_requests):
    name = draw(st.sampled_from(controller_standards()))
    std = load_standard(name)
    refreshes = ["all_bank", "none"] + (["per_bank"] if std.refresh.per_bank_command else [])
    n = draw(st.integers(1, max_requests))
    kind = draw(st.sampled_from(["random", "stream", "hot_rows"]))
    cap, burst = capacity_bytes(std), std.organization.burst_bytes
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if kind == "random":
        addresses = rng.integers(0, cap // burst, size=n) * burst
    elif kind == "stream":
        addresses = (np.arange(n) + rng.integers(0, cap // burst)) * burst % cap
    else:  # a few rows of a few banks: hits, conflicts and open-row protection
        addresses = rng.choice(rng.integers(0, cap // burst, size=6), size=n) * burst
    writes = rng.random(n) < draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
    gap = draw(st.sampled_from([0, 3, 40, 400]))
    arrivals = np.cumsum(rng.integers(0, gap + 1, size=n)) if gap else np.zeros(n, int)
    entries = [TraceEntry(int(a), bool(w), int(t)) for a, w, t in zip(addresses, writes, arrivals)]
    kw = {"mapping": draw(st.sampled_from(MAPPINGS)), "policy": draw(st.sampled_from(
        ["open", "closed"])), "refresh": draw(st.sampled_from(refreshes))}
    return std, entries, kw


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads(max_requests=200))
def test_fast_engine_equals_reference_on_random_inputs(case):
    std, entries, kw = case
    assert_same(std, entries, **kw)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads(max_requests=3000))
def test_fast_engine_equals_reference_on_random_inputs_slow(case):
    std, entries, kw = case
    assert_same(std, entries, **kw)
