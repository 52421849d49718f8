"""The checker against hand-built DDR4-3200 traces: each rule passes at its exact minimum gap
and is reported, with the right required/actual gap, one cycle earlier. The expected gaps are
JESD79-4C DDR4-3200AA numbers written out here, not read from the model."""
import pytest

from sim.dram import check_trace, load_standard

DDR4 = load_standard("DDR4-3200")


def cmd(cycle, name, bg=0, bank=0, row=0, col=0, rank=0, ch=0):
    return (cycle, name, ch, rank, bg, bank, row, col)


def names(trace):
    return {v.constraint for v in check_trace(DDR4, trace, check_refresh=False)}


# (constraint, builder(gap) -> trace, minimum legal gap per JESD79-4C DDR4-3200AA)
CASES = [
    ("tRCD", lambda g: [cmd(0, "ACT"), cmd(g, "RD")], 22),
    ("tRP", lambda g: [cmd(0, "ACT"), cmd(60, "PRE"), cmd(60 + g, "ACT", row=1)], 22),
    ("tRAS", lambda g: [cmd(0, "ACT"), cmd(g, "PRE")], 52),
    ("tCCD_S", lambda g: [cmd(0, "ACT"), cmd(4, "ACT", bg=1), cmd(30, "RD"),
                          cmd(30 + g, "RD", bg=1)], 4),
    ("tCCD_L", lambda g: [cmd(0, "ACT"), cmd(8, "ACT", bank=1), cmd(40, "RD"),
                          cmd(40 + g, "RD", bank=1)], 8),
    ("tRRD_S", lambda g: [cmd(0, "ACT"), cmd(g, "ACT", bg=1)], 4),
    ("tRRD_L", lambda g: [cmd(0, "ACT"), cmd(g, "ACT", bank=1)], 8),
    ("tFAW", lambda g: [cmd(0, "ACT"), cmd(4, "ACT", bg=1), cmd(8, "ACT", bg=2),
                        cmd(12, "ACT", bg=3), cmd(g, "ACT", bank=1)], 34),
    ("tWTR_S", lambda g: [cmd(0, "ACT"), cmd(4, "ACT", bg=1), cmd(30, "WR"),
                          cmd(30 + g, "RD", bg=1)], 16 + 4 + 4),
    ("tWTR_L", lambda g: [cmd(0, "ACT"), cmd(8, "ACT", bank=1), cmd(30, "WR"),
                          cmd(30 + g, "RD", bank=1)], 16 + 4 + 12),
    ("tRTW", lambda g: [cmd(0, "ACT"), cmd(30, "RD"), cmd(30 + g, "WR")], 22 + 4 + 2 - 16),
    ("tRTP", lambda g: [cmd(0, "ACT"), cmd(60, "RD"), cmd(60 + g, "PRE")], 12),
    ("tWR", lambda g: [cmd(0, "ACT"), cmd(60, "WR"), cmd(60 + g, "PRE")], 16 + 4 + 24),
    ("tRFC", lambda g: [cmd(0, "REF"), cmd(g, "ACT")], 560),
    ("tRC", lambda g: [cmd(0, "ACT"), cmd(22, "RDA"), cmd(g, "ACT", row=1)], 74),
]


@pytest.mark.parametrize("constraint,build,gap", CASES, ids=[c[0] for c in CASES])
def test_rule_holds_at_minimum_gap_and_is_caught_one_cycle_earlier(constraint, build, gap):
    assert check_trace(DDR4, build(gap), check_refresh=False) == []
    found = [v for v in check_trace(DDR4, build(gap - 1), check_refresh=False)
             if v.constraint == constraint]
    assert found, f"{constraint} violation not reported"
    assert found[0].required_gap >= gap and found[0].actual_gap < found[0].required_gap
    assert found[0].preceding is not None


def test_tccd_s_reports_both_commands_and_gaps():
    trace = [cmd(0, "ACT"), cmd(4, "ACT", bg=1), cmd(30, "RD"), cmd(33, "RD", bg=1)]
    v = [v for v in check_trace(DDR4, trace, check_refresh=False) if v.constraint == "tCCD_S"][0]
    assert (v.preceding[0], v.preceding[1], v.command[0], v.command[1]) == (30, "RD", 33, "RD")
    assert (v.required_gap, v.actual_gap) == (4, 3)


def test_read_to_closed_bank():
    assert names([cmd(0, "RD")]) == {"RD-to-closed-bank"}


def test_read_to_other_row():
    assert "RD-wrong-row" in names([cmd(0, "ACT", row=5), cmd(30, "RD", row=6)])


def test_act_to_open_bank():
    assert "ACT-needs-closed" in names([cmd(0, "ACT"), cmd(100, "ACT", row=1)])


def test_refresh_with_open_bank():
    assert "REF-needs-closed" in names([cmd(0, "ACT"), cmd(200, "REF")])


def test_two_commands_in_one_cycle():
    assert "command-bus" in names([cmd(0, "ACT"), cmd(0, "ACT", bg=1)])


def test_missing_refresh_over_trefi():
    refi = 12480
    refs = [cmd(k * refi + 10, "REF") for k in range(1, 6)]
    tail = [cmd(6 * refi + 5, "ACT")]
    assert check_trace(DDR4, refs + tail, max_postponed=0) == []
    dropped = refs[:2] + refs[3:] + tail
    found = check_trace(DDR4, dropped, max_postponed=0)
    assert found and {v.kind for v in found} == {"refresh"}
    assert all(v.constraint == "tREFI" for v in found)
    # JEDEC's 8 postponed REFs make one missing REF legal
    assert check_trace(DDR4, dropped) == []
