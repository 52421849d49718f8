"""The controller and device model against closed-form references and the independent checker."""
import pytest

from sim.dram import (TraceEntry, capacity_bytes, check_trace, load_standard, simulate,
                      synthetic)

BG_INTERLEAVED = "RoRaBaCoBgCh"
STANDARDS = ["DDR4-3200", "LPDDR5-6400", "HBM2", "GDDR6"]


def stream(std, n, **kw):
    return synthetic("stream", n, std.organization.burst_bytes, capacity_bytes(std), **kw)


def assert_clean(std, result, **kw):
    violations = check_trace(std, result.trace, end_cycle=result.cycles, **kw)
    assert violations == [], violations[:3]


@pytest.mark.parametrize("name", STANDARDS)
def test_streaming_reads_reach_90_percent_of_bus_peak_with_bank_group_interleaving(name):
    std = load_standard(name)
    org = std.organization
    # closed-form peak: channels x bus bytes x transfer rate
    peak = org.channels * org.bus_width_bits / 8 * org.data_rate_mtps / 1000
    assert std.peak_bandwidth_gbps == pytest.approx(peak)
    result = simulate(std, stream(std, 3000), mapping=BG_INTERLEAVED, engine="loop")
    assert result.bytes_moved == 3000 * org.burst_bytes
    assert result.bandwidth_gbps >= 0.90 * peak
    assert_clean(std, result, max_postponed=0)


def test_ddr4_one_bank_mapping_is_bounded_by_tccd_l():
    """RoBaRaCoCh keeps consecutive bursts in one bank group: one burst per tCCD_L = 8 tCK
    (JESD79-4C, 3200) instead of per tCCD_S = BL/2 = 4 tCK, so half the bus peak at most."""
    std = load_standard("DDR4-3200")
    n = 2000
    result = simulate(std, stream(std, n), mapping="RoBaRaCoCh", engine="loop")
    # burst i: column i % 128 (1 KB x 8 devices / 64 B), bank (i // 128) % 16, group = bank // 4,
    # so the group changes every 512 bursts. Only the 32 queued requests around such a change
    # can overlap two groups; every other burst waits tCCD_L = 8 cycles after its predecessor.
    group_changes = (n - 1) // 512
    min_cycles = 8 * (n - group_changes * 32)
    assert result.cycles >= min_cycles
    assert result.bandwidth_efficiency <= n * 4 / min_cycles < 0.53
    assert result.bandwidth_efficiency >= 0.45
    assert_clean(std, result, max_postponed=0)
    fast = simulate(std, stream(std, 2000), mapping=BG_INTERLEAVED, engine="loop")
    assert fast.bandwidth_efficiency > 0.9


@pytest.mark.parametrize("name", ["DDR4-3200", "HBM2"])
def test_uniform_random_reads_almost_never_hit_the_row_buffer(name):
    std = load_standard(name)
    entries = synthetic("random", 1500, std.organization.burst_bytes, capacity_bytes(std), seed=3)
    result = simulate(std, entries, engine="loop")
    assert result.row_hits / result.requests < 0.02
    assert result.row_hits + result.row_misses + result.row_conflicts == result.requests
    assert_clean(std, result, max_postponed=0)


def test_single_read_latency_is_trcd_plus_cl_plus_burst():
    std = load_standard("DDR4-3200")
    result = simulate(std, [TraceEntry(0, False, 0)])
    assert [c.command for c in result.trace] == ["ACT", "RD"]
    assert result.read_latency_cycles[0] == 22 + 22 + 4  # tRCD + CL + BL/2, DDR4-3200AA


def test_all_bank_refresh_follows_trefi():
    std = load_standard("DDR4-3200")
    refi = 12480
    entries = [TraceEntry(i * 4096 * 7 % capacity_bytes(std), i % 3 == 0, i * 250)
               for i in range(300)]
    result = simulate(std, entries, engine="loop")
    refs = [c.cycle for c in result.trace if c.command == "REF"]
    assert len(refs) == result.cycles // refi
    for k, cycle in enumerate(refs, start=1):
        assert k * refi <= cycle < k * refi + 200  # PREA (tRAS/tRTP/tWR) + tRP at most
    assert_clean(std, result, max_postponed=0)


@pytest.mark.parametrize("name", ["LPDDR5-6400", "HBM2", "GDDR6"])
def test_per_bank_refresh_covers_every_bank_each_trefi(name):
    std = load_standard(name)
    entries = [TraceEntry(i * 64 * 37 % capacity_bytes(std), i % 4 == 0, i * 40)
               for i in range(400)]
    result = simulate(std, entries, refresh="per_bank", engine="loop")
    assert result.command_counts.get("REFpb", 0) >= result.cycles // std.timing("nREFIpb") - 1
    assert_clean(std, result, max_postponed=0)


@pytest.mark.parametrize("name", STANDARDS)
def test_mixed_reads_and_writes_drain_cleanly(name):
    std = load_standard(name)
    entries = synthetic("random", 600, std.organization.burst_bytes, capacity_bytes(std),
                        seed=7, write_fraction=0.4)
    entries += stream(std, 600, write_fraction=0.5)
    result = simulate(std, entries, engine="loop")
    assert result.writes > 0 and result.reads > 0
    counts = result.command_counts
    assert counts.get("RD", 0) == result.reads and counts.get("WR", 0) == result.writes
    assert_clean(std, result, max_postponed=0)


def test_closed_page_policy_auto_precharges_every_access():
    std = load_standard("DDR4-3200")
    result = simulate(std, stream(std, 400, write_fraction=0.3), policy="closed")
    counts = result.command_counts
    assert set(counts) <= {"ACT", "RDA", "WRA", "REF", "PREA"}
    assert counts["ACT"] == counts.get("RDA", 0) + counts.get("WRA", 0) == 400
    assert_clean(std, result, max_postponed=0)


@pytest.mark.parametrize("pattern,policy,refresh", [
    ("stream", "open", "all_bank"), ("random", "open", "all_bank"),
    ("random", "closed", "all_bank"), ("stream", "open", "per_bank")])
def test_simpy_engine_and_loop_engine_emit_identical_traces(pattern, policy, refresh):
    std = load_standard("GDDR6")
    entries = synthetic(pattern, 1200, std.organization.burst_bytes, capacity_bytes(std),
                        seed=11, write_fraction=0.25)
    entries = [TraceEntry(e.address, e.is_write, i * 3) for i, e in enumerate(entries)]
    ref = simulate(std, entries, policy=policy, refresh=refresh, engine="simpy")
    fast = simulate(std, entries, policy=policy, refresh=refresh, engine="loop")
    assert fast.trace == ref.trace
    assert fast.cycles == ref.cycles
    assert fast.to_dict() | {"engine": ""} == ref.to_dict() | {"engine": ""}
    assert_clean(std, ref, max_postponed=0)


def test_energy_uses_cited_idd_formula():
    std = load_standard("DDR4-3200")
    result = simulate(std, stream(std, 200))
    e = result.energy_pj
    # Micron TN-40-07 read burst energy: VDD x (IDD4R - IDD3N) x tBurst x devices per rank
    assert e["read"] == pytest.approx(200 * 1.2 * (168 - 52) * 4 * 0.625 * 8)
    assert e["total"] == pytest.approx(sum(v for k, v in e.items() if k != "total"))
    assert "Micron" in result.energy_source
    assert simulate("LPDDR5-6400", stream(load_standard("LPDDR5-6400"), 10)).energy_pj is None
