"""Standards loading, address mapping, trace parsing and the `einspace dram` CLI."""
import json

import pytest

from experiments.cli import main
from sim.dram import available_standards, load_standard
from sim.dram.address import AddressMapping
from sim.dram.expr import evaluate_latency
from sim.dram.spec import parse_standard
from sim.dram.trace import parse_trace_lines, synthetic
from workloads.errors import SpecError


def test_four_standards_ship_with_jedec_peaks():
    assert {"DDR4-3200", "LPDDR5-6400", "HBM2", "GDDR6"} <= set(available_standards())
    # bus width x data rate: 64 b x 3200 MT/s, 16 b x 6400, 2 x 64 b x 2000, 2 x 16 b x 16000
    peaks = {"DDR4-3200": 25.6, "LPDDR5-6400": 12.8, "HBM2": 32.0, "GDDR6": 64.0}
    for name, peak in peaks.items():
        std = load_standard(name)
        assert std.peak_bandwidth_gbps == pytest.approx(peak)
        # a burst occupies the data bus for BL / (beats per clock) cycles
        org = std.organization
        beats_per_clock = org.data_rate_mtps * std.tck_ps / 1e6
        assert std.timing("nBL") == org.burst_length / beats_per_clock
        assert std.source and std.refresh.source


def test_constraint_rows_evaluate_named_timings():
    ddr4 = load_standard("ddr4-3200")
    rows = {(r.name, r.level, r.preceding, r.following): r.latency_cycles
            for r in ddr4.constraints}
    assert rows[("tRTW", "rank", ("RD", "RDA"), ("WR", "WRA"))] == 22 + 4 + 2 - 16
    assert rows[("tWR", "bank", ("WR",), ("PRE",))] == 16 + 4 + 24
    assert [r.window for r in ddr4.constraints if r.name == "tFAW"] == [4]


def test_latency_expressions_reject_unknown_names_and_bad_syntax():
    assert evaluate_latency("nA + 2 - nB", {"nA": 5, "nB": 1}, "x") == 6
    with pytest.raises(SpecError, match="unknown timing 'nC'"):
        evaluate_latency("nA + nC", {"nA": 5}, "x")
    with pytest.raises(SpecError):
        evaluate_latency("nA +", {"nA": 5}, "x")


def test_a_pim_command_is_just_more_rows():
    import yaml
    from sim.dram.spec import STANDARDS_DIR
    raw = yaml.safe_load((STANDARDS_DIR / "HBM2.yaml").read_text())
    raw["commands"]["MAC_AB"] = {"scope": "rank", "requires": "none"}
    raw["constraints"].append(["tMAC", "rank", "MAC_AB", "MAC_AB RD", "nCCD_L"])
    std = parse_standard(raw, "pim")
    assert std.command("MAC_AB").scope == "rank"
    with pytest.raises(SpecError, match="unknown command 'NOPE'"):
        raw["constraints"].append(["x", "rank", "NOPE", "RD", 1])
        parse_standard(raw, "pim")


def test_unknown_standard_is_a_spec_error():
    with pytest.raises(SpecError, match="allowed: DDR4-3200"):
        load_standard("DDR3-1600")


def test_mapping_fields_decode_from_lsb():
    org = load_standard("DDR4-3200").organization
    m = AddressMapping.parse("RoRaBaCoBgCh", org)
    # 64 B bursts: bits 6-7 bank group, 8-14 column, 15-16 bank, 17+ row
    d = m.decode((5 << 17) | (2 << 15) | (9 << 8) | (3 << 6) | 17)
    assert (d.row, d.bank, d.column, d.bankgroup, d.channel, d.rank) == (5, 2, 9, 3, 0, 0)
    whole = AddressMapping.parse("RoBaRaCoCh", org).decode((13 << 13) | (1 << 6))
    assert (whole.bankgroup, whole.bank, whole.column) == (3, 1, 1)
    with pytest.raises(SpecError, match="exactly once"):
        AddressMapping.parse("RoBaCoCh", org)
    with pytest.raises(SpecError, match="two-letter fields"):
        AddressMapping.parse("RoBxRaCoCh", org)


def test_trace_lines_hex_decimal_and_cycles():
    entries = parse_trace_lines(["0x40 R", "128 w 7", "# note", "", "0X80 READ 9  # x"], "t")
    assert [(e.address, e.is_write, e.arrival) for e in entries] == [
        (64, False, 0), (128, True, 7), (128, False, 9)]
    with pytest.raises(SpecError, match=r"t:2: operation 'X'"):
        parse_trace_lines(["0 R", "0 X"], "t")
    with pytest.raises(SpecError, match="t:1: expected 'ADDR R|W"):
        parse_trace_lines(["0"], "t")


def test_trace_lines_in_other_simulators_spellings():
    # DRAMSim3 "ADDR READ|WRITE cycle", Ramulator 2 LoadStoreTrace "LD|ST ADDR", DRAMSim2 k6
    lines = ["0x1f40 READ 12", "0x1f80 WRITE 13", "LD 0x2000", "st 8192 14", "0x40 P_MEM_RD 15",
             "0x80 p_mem_wr", "RD 64", "64 wr 21"]
    got = [(e.address, e.is_write, e.arrival) for e in parse_trace_lines(lines, "t")]
    assert got == [(0x1F40, False, 12), (0x1F80, True, 13), (0x2000, False, 13), (8192, True, 14),
                   (0x40, False, 15), (0x80, True, 15), (64, False, 15), (64, True, 21)]
    with pytest.raises(SpecError, match="t:1: operation 'FETCH'; allowed: R, READ"):
        parse_trace_lines(["0x40 FETCH"], "t")
    with pytest.raises(SpecError, match="t:1: address 'LD'"):
        parse_trace_lines(["LD LD"], "t")


def test_synthetic_patterns():
    s = synthetic("strided", 4, 64, 1 << 20, stride_bytes=256)
    assert [e.address for e in s] == [0, 256, 512, 768]
    r1 = synthetic("random", 50, 64, 1 << 20, seed=1)
    assert r1 == synthetic("random", 50, 64, 1 << 20, seed=1)
    assert all(e.address % 64 == 0 and e.address < 1 << 20 for e in r1)


def test_cli_trace_json(tmp_path, capsys):
    trace = tmp_path / "t.trace"
    trace.write_text("0x0 R\n0x40 R 5\n0x80 W 9\n")
    assert main(["dram", "--standard", "GDDR6", "--trace", str(trace), "--mapping",
                 "RoBaRaCoCh", "--policy", "closed", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["requests"] == 3 and out["writes"] == 1 and out["checker_violations"] == 0
    assert out["mapping"] == "RoBaRaCoCh" and out["policy"] == "closed"
    for key in ("bandwidth_gbps", "peak_bandwidth_gbps", "row_hit_rate", "read_latency_ns",
                "command_counts", "energy_pj", "energy_source"):
        assert key in out


def test_cli_synthetic_text(capsys):
    assert main(["dram", "--standard", "DDR4-3200", "--synthetic", "strided", "--requests",
                 "300", "--stride", "128", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "GB/s" in out and "0 violation(s)" in out


@pytest.mark.parametrize("args,needle", [
    (["--standard", "DDR9", "--synthetic", "stream"], "unknown DRAM standard"),
    (["--standard", "GDDR6", "--synthetic", "zigzag"], "--synthetic 'zigzag'"),
    (["--standard", "GDDR6", "--synthetic", "stream", "--policy", "lazy"], "page policy"),
    (["--standard", "DDR4-3200", "--synthetic", "stream", "--refresh", "per_bank"], "per-bank"),
])
def test_cli_bad_input_exits_2(args, needle, capsys):
    assert main(["dram", *args, "--requests", "10"]) == 2
    assert needle in capsys.readouterr().err


def test_cli_bad_trace_line_exits_2(tmp_path, capsys):
    trace = tmp_path / "bad.trace"
    trace.write_text("0x0 R\nnot-an-address R\n")
    assert main(["dram", "--standard", "HBM2", "--trace", str(trace)]) == 2
    assert f"{trace}:2:" in capsys.readouterr().err


@pytest.mark.parametrize("lines, kwargs, message", [
    (["0x40 R 10", "0x80 R 5"], {}, "t:2: cycle 5 is before the previous request's 10"),
    (["0x400 R"], {"capacity_bytes": 0x400}, "t:1: address 0x400 is past the device's 0x400 bytes"),
    (["0 R", "64 R", "128 R"], {"max_requests": 2}, "t: more than 2 requests; raise --max-requests"),
    (["0" * 300 + " R"], {}, "t:1: line longer than 256 characters"),
])
def test_trace_bounds_are_one_line(lines, kwargs, message):
    with pytest.raises(SpecError, match=message):
        parse_trace_lines(lines, "t", **kwargs)


def test_a_file_without_newlines_fails_on_its_first_line():
    from sim.dram.trace import read_trace

    with pytest.raises(SpecError, match="/dev/zero:1: line longer than 256"):
        read_trace("/dev/zero")
