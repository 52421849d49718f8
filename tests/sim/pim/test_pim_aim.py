"""AiM simulator semantics (GDDR6-AiM-CENT, sim.pim.isr): a hand-derived GEMV, engine equality,
a checker-clean trace, injected violations caught, and the trace parser's bounds."""
import pytest

from sim.dram.checker import check_trace
from sim.pim.analytic import run_analytic
from sim.pim.engine import run_event, run_fast
from sim.pim.isr import gemv_isr, isr_steps, parse_isr, run_isr
from sim.pim.spec import aim_cent_system
from workloads.errors import SpecError

SYSTEM = aim_cent_system()
STD = SYSTEM.standard
T = STD.timings
CH = STD.organization.channels

MIXED = """# every AiM instruction einspace models, over three channels with different masks
AiM WR_GB 8 0 0xc0000000
AiM WR_BIAS 0 0xc0000000
AiM MAC_ABK 8 0xc0000000 3
AiM RD_MAC 0 0xc0000000
AiM AF 0x80000000
AiM RD_AF 0 0x80000000
AiM EWMUL 4 0x40000000 5
AiM COPY_BKGB 4 0x40000000 2 5
AiM COPY_GBBK 4 0xc0000000 1 7
AiM SYNC
AiM WR_GB 64 0 0xe0000000
AiM MAC_ABK 16 0xe0000000 7
AiM MAC_ABK 16 0xe0000000 7
AiM RD_MAC 0 0xe0000000
AiM WR_BIAS 0 0x20000000
AiM RD_MAC 0 0x20000000
AiM EOC
"""


def test_one_channel_two_tile_gemv_by_hand():
    """M = 32 (two 16-row groups), K = 1024, 1 channel: every issue cycle from the table."""
    d = T["nDMA"]
    tmod0 = d                                   # DMA decodes WR_GB; normal -> register mode
    wr_last = tmod0 + T["nMODCH"] + 63 * T["nBL"]  # 64 WR_GB at nBL
    tmod1 = wr_last + 1                         # ACT_AB is ready at once: TMOD in its place
    act = tmod1 + T["nMODCH"]
    mac_last = act + T["nRCDRDMAC"] + 63 * T["nCCDL"]
    tmod2 = mac_last + T["nCCDL"]               # TMOD waits until RD_MAC may issue
    rd = tmod2 + T["nMODCH"]
    tmod3 = rd + T["nCLREG"] + T["nBL"] + d     # RD_MAC blocks until its data is back, then decode
    assert tmod3 >= mac_last + T["nRTP"] and tmod3 >= act + T["nRAS"]  # PRE_AB ready
    pre = tmod3 + T["nMODCH"]
    act2 = pre + T["nRP"]
    mac2_last = act2 + T["nRCDRDMAC"] + 63 * T["nCCDL"]
    rd2 = mac2_last + T["nCCDL"] + T["nMODCH"]
    eoc = rd2 + T["nCLREG"] + T["nBL"] + d
    expected = eoc + 1
    steps = isr_steps(parse_isr(gemv_isr(32, 1024, 1), STD), STD)
    ev = run_event(STD, steps, CH, refresh=False)
    cycles = [(c, name) for c, name, *_ in ev.trace]
    assert [c for c, n in cycles if n == "TMOD"] == [tmod0, tmod1, tmod2, tmod3, rd2 - T["nMODCH"]]
    assert [c for c, n in cycles if n in ("ACT_AB", "PRE_AB", "RD_MAC", "EOC") and c < 1000][:5] == \
        [act, rd, pre, act2, rd2]
    assert ev.cycles == expected == 695
    for run in (run_fast, run_analytic):
        assert run(STD, steps, CH, refresh=False).cycles == expected


@pytest.mark.parametrize("text", [MIXED, gemv_isr(256, 2048, 4), gemv_isr(64, 1024, 2, bias=True),
                                  MIXED.replace("AiM EOC\n", "") + MIXED.split("\n", 1)[1]])
def test_engines_agree_on_aim_programs(text):
    steps = isr_steps(parse_isr(text.replace("AiM EOC\nAiM", "AiM SYNC\nAiM"), STD), STD)
    ev = run_event(STD, steps, CH, refresh=False, record=False)
    timing = [(s.start_cycle, s.end_cycle, s.transfer_cycles) for s in ev.steps]
    for run in (run_fast, run_analytic):
        other = run(STD, steps, CH, refresh=False)
        assert other.cycles == ev.cycles and other.counts == ev.counts
        assert [(s.start_cycle, s.end_cycle, s.transfer_cycles) for s in other.steps] == timing


def _mixed_trace():
    steps = isr_steps(parse_isr(MIXED, STD), STD)
    return run_event(STD, steps, CH, refresh=False).trace


def test_mixed_trace_is_checker_clean_and_uses_every_command():
    trace = _mixed_trace()
    assert check_trace(STD, trace, check_refresh=False) == []
    assert {c[1] for c in trace} == set(STD.commands) - {"REF"}


def _pairs(trace):
    """(row, index of preceding, index of following) for each table row whose two commands meet
    in the trace on one channel (the first such pair)."""
    found = {}
    for row in STD.constraints:
        for j, f in enumerate(trace):
            if f[1] not in row.following:
                continue
            prev = [i for i in range(j) if trace[i][2] == f[2] and trace[i][1] in row.preceding]
            if prev:
                found.setdefault((row.name, row.expression), (row, prev[-1], j))
                break
    return list(found.values())


def test_every_injected_timing_violation_is_caught():
    trace = _mixed_trace()
    pairs = _pairs(trace)
    names = {row.name for row, _, _ in pairs}
    assert {"tMODCH", "tRCDMAC", "tRCDAF", "tRCDEW", "tRCDCP", "tRCDWCP", "tRP", "tRAS", "tRTP",
            "tWR", "tBL", "tCCD_L", "tRTW", "tWTR_S"} <= names
    for row, i, j in pairs:
        bad = list(trace)
        bad[j] = (trace[i][0] + row.latency_cycles - 1,) + trace[j][1:]
        hits = [v for v in check_trace(STD, bad, check_refresh=False)
                if v.constraint == row.name and v.index == j]
        assert hits, (row.name, row.expression, trace[i], trace[j])


def test_injected_state_and_bus_violations_are_caught():
    trace = _mixed_trace()
    act = next(i for i, c in enumerate(trace) if c[1] == "ACT_AB")
    names = {v.constraint for v in check_trace(STD, trace[:act] + trace[act + 1:], check_refresh=False)}
    assert "MAC_AB-to-closed-bank" in names
    k = next(i for i in range(1, len(trace)) if trace[i][2] == trace[i - 1][2])
    bus = list(trace)
    bus[k] = (trace[k - 1][0],) + trace[k][1:]
    assert "command-bus" in {v.constraint for v in check_trace(STD, bus, check_refresh=False)}


def test_mode_switches_and_lazy_precharge_are_counted():
    res = run_isr(parse_isr(gemv_isr(64, 2048, 1), STD), SYSTEM)
    # 2 chunks x 4 groups = 8 tiles: 1 TMOD before the first WR_GB, 2 per tile; the second WR_GB
    # follows an RD_MAC (register mode already)
    assert res.per_channel[0] == {"TMOD": 17, "WR_GB": 128, "ACT_AB": 8, "MAC_AB": 512,
                                  "RD_MAC": 8, "PRE_AB": 7, "EOC": 1}
    assert res.energy_j["energy_mac_j"] > 0 and res.seconds == pytest.approx(res.cycles * 0.5e-9)


@pytest.mark.parametrize("text,message", [
    ("AiM MAC_ABK 65 0x80000000 0\nAiM EOC", "f:1: opsize 65 out of range"),
    ("AiM MAC_ABK 8 0x80000000 16384\nAiM EOC", "f:1: row 16384 out of range"),
    ("AiM COPY_BKGB 8 0x80000000 16 0\nAiM EOC", "f:1: bank 16 out of range"),
    ("AiM RD_MAC 0 0\nAiM EOC", "f:1: mask 0 out of range"),
    ("AiM RD_MAC 0 0x100000000\nAiM EOC", "f:1: mask 4294967296 out of range"),
    ("AiM RD_MAC 0\nAiM EOC", "f:1: RD_MAC takes 2 field(s)"),
    ("# c\nAiM FOO 1\nAiM EOC", "f:2: unknown AiM instruction 'FOO'"),
    ("AiM WR_GB x 0 1\nAiM EOC", "f:1: 'x' is not a number"),
    ("R MEM 0 0 0\nAiM EOC", "f:1: expected 'AiM <instruction>"),
    ("AiM SYNC", "f: the trace does not end with 'AiM EOC'"),
    ("AiM EOC\nAiM SYNC", "f:2: instruction after EOC"),
    ("AiM SYNC " + "x" * 300 + "\nAiM EOC", "f:1: line longer than 256"),
])
def test_parser_refuses_bad_traces_in_one_line(text, message):
    with pytest.raises(SpecError) as err:
        parse_isr(text, STD, "f")
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


@pytest.mark.parametrize("args", [(1000, 1024, 1), (1024, 1000, 1), (1024, 1024, 33), (16, 1024 * 20000, 1)])
def test_gemv_emitter_refuses_shapes_it_cannot_lay_out(args):
    with pytest.raises(SpecError):
        gemv_isr(*args)


def test_pim_gpt_preset_keeps_its_standard():
    from sim.pim.spec import PimSystem
    std = PimSystem().standard
    assert std.name == "GDDR6-AiM" and "TMOD" not in std.commands and std.timing("nRCDRD") == 30
