"""Rank-to-rank (sibling) rows on a two-rank DDR4-3200 channel built from the shipped data."""
import yaml

from sim.dram import capacity_bytes, check_trace, simulate, synthetic
from sim.dram.spec import STANDARDS_DIR, parse_standard


def two_rank_ddr4():
    raw = yaml.safe_load((STANDARDS_DIR / "DDR4-3200.yaml").read_text())
    raw["organization"]["ranks"] = 2
    return parse_standard(raw, "DDR4-3200 x2 ranks")


def test_rank_switch_needs_burst_plus_ncs():
    std = two_rank_ddr4()
    base = [(0, "ACT", 0, 0, 0, 0, 0, 0), (1, "ACT", 0, 1, 0, 0, 0, 0),
            (40, "RD", 0, 0, 0, 0, 0, 0)]
    # JESD79-4C: back-to-back reads to different ranks need BL/2 + a rank-switch bubble (2 tCK)
    assert check_trace(std, base + [(46, "RD", 0, 1, 0, 0, 0, 0)], check_refresh=False) == []
    found = check_trace(std, base + [(45, "RD", 0, 1, 0, 0, 0, 0)], check_refresh=False)
    assert [v.constraint for v in found] == ["tRTRS"]
    assert (found[0].required_gap, found[0].actual_gap) == (6, 5)


def test_two_rank_model_traces_are_clean_and_engines_agree():
    std = two_rank_ddr4()
    entries = synthetic("random", 800, 64, capacity_bytes(std), seed=5, write_fraction=0.3)
    ref = simulate(std, entries, engine="simpy")
    fast = simulate(std, entries, engine="loop")
    assert ref.trace == fast.trace
    assert {c.rank for c in ref.trace} == {0, 1}
    assert check_trace(std, ref.trace, end_cycle=ref.cycles, max_postponed=0) == []
