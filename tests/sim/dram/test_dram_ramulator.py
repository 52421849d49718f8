"""Lining einspace's DRAM model up with Ramulator 2: the `ramulator:` mapping names, `channels`,
the Ramulator trace frontends' formats, the Ramulator-sourced presets, and the DDR4-3200 runs of
shared/reference/ramulator_ddr4.json (cycles within 2 %)."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest
from click.testing import CliRunner

from experiments.cli.dram import dram
from experiments.validation.references import load
from sim.dram import TraceEntry, available_standards, check_trace, load_standard, simulate
from sim.dram.address import AddressMapping, DecodedAddress, vector_address
from sim.dram.fast import decode_arrays
from sim.dram.spec import with_channels
from sim.dram.trace import parse_trace_lines
from workloads.errors import SpecError

RAMULATOR_NAMES = ("ramulator:RoBaRaCoCh", "ramulator:ChRaBaRoCo")


def _ddr4_2ch():
    return with_channels(load_standard("DDR4-3200"), 2)


def test_worked_address_decodes_to_the_documented_fields():
    """docs/dram.md, "Address mapping": 0x12345678 on DDR4-3200 with 2 channels (64 B bursts,
    burst index 0x48D159)."""
    org = _ddr4_2ch().organization
    ram = AddressMapping.parse("ramulator:RoBaRaCoCh", org).decode(0x12345678)
    assert ram == DecodedAddress(channel=1, rank=0, bankgroup=1, bank=0, row=1165, column=44)
    own = AddressMapping.parse("RoBaRaCoCh", org).decode(0x12345678)
    assert own == DecodedAddress(channel=1, rank=0, bankgroup=0, bank=1, row=1165, column=44)
    assert AddressMapping.parse("einspace:RoBaRaCoCh", org).decode(0x12345678) == own
    chra = AddressMapping.parse("ramulator:ChRaBaRoCo", org).decode(0x12345678)
    assert chra == DecodedAddress(channel=0, rank=0, bankgroup=0, bank=0, row=37282, column=89)


def _ramulator_slices(org, lsb_first_levels, address):
    """Ramulator 2.0's linear mapper, re-derived: drop the burst offset, then slice
    log2(level size) bits per level in the given order from the LSB up."""
    sizes = {"channel": org.channels, "rank": org.ranks, "bankgroup": org.bankgroups,
             "bank": org.banks_per_group, "row": org.rows, "column": org.bursts_per_row}
    rest = address // org.burst_bytes
    out = {}
    for level in lsb_first_levels:
        out[level] = rest % sizes[level]
        rest //= sizes[level]
    return DecodedAddress(**out)


@pytest.mark.parametrize("name", ["DDR4-3200", "GDDR6-14000-Ramulator", "HBM2-2000-Ramulator",
                                  "LPDDR5-6400", "DDR5-4800"])
def test_ramulator_names_match_ramulators_slicing(name):
    org = with_channels(load_standard(name), 4).organization
    orders = {"ramulator:RoBaRaCoCh": ("channel", "column", "rank", "bankgroup", "bank", "row"),
              "ramulator:ChRaBaRoCo": ("column", "row", "bank", "bankgroup", "rank", "channel")}
    rng = random.Random(3)
    for text, order in orders.items():
        amap = AddressMapping.parse(text, org)
        addresses = [rng.randrange(0, 1 << 34) for _ in range(300)]
        for a in addresses:
            assert amap.decode(a) == _ramulator_slices(org, order, a % (1 << 34))
        arrays = decode_arrays(amap, np.array(addresses, dtype=np.uint64))
        for i, a in enumerate(addresses):
            d = amap.decode(a)
            assert (arrays["Ch"][i], arrays["Ra"][i], arrays["Bg"][i], arrays["Ba"][i],
                    arrays["Ro"][i], arrays["Co"][i]) == (d.channel, d.rank, d.bankgroup, d.bank,
                                                          d.row, d.column)


def test_ramulator_and_einspace_names_differ_where_the_issue_says():
    """(a) of the issue: einspace's RoBaRaCoCh folds the bank group into the bank field's high
    bits; Ramulator's puts the bank group below the bank."""
    org = load_standard("DDR4-3200").organization
    own = AddressMapping.parse("RoBaRaCoCh", org)
    ram = AddressMapping.parse("ramulator:RoBaRaCoCh", org)
    a = 1 << (6 + 7)  # the lowest bit above the column
    assert (own.decode(a).bankgroup, own.decode(a).bank) == (0, 1)
    assert (ram.decode(a).bankgroup, ram.decode(a).bank) == (1, 0)
    assert AddressMapping.parse("RoBaBgRaCoCh", org).fields == ram.fields


@pytest.mark.parametrize("text", ["ramulator:RoBaCoCh", "ramulator:", "einspace:XX", "RoBa"])
def test_bad_mapping_names_are_refused(text):
    with pytest.raises(SpecError):
        AddressMapping.parse(text, load_standard("DDR4-3200").organization)


@pytest.mark.parametrize("text", RAMULATOR_NAMES + ("RoBaRaCoCh", "RoRaBaCoBgCh"))
def test_encode_inverts_decode(text):
    org = _ddr4_2ch().organization
    amap = AddressMapping.parse(text, org)
    rng = random.Random(5)
    for _ in range(200):
        where = DecodedAddress(rng.randrange(2), 0, rng.randrange(4), rng.randrange(4),
                               rng.randrange(org.rows), rng.randrange(org.bursts_per_row))
        assert amap.decode(amap.encode(where)) == where
    with pytest.raises(SpecError):
        amap.encode(DecodedAddress(2, 0, 0, 0, 0, 0))


@pytest.mark.parametrize("channels", [0, 3, -1, 2048, True])
def test_channels_validated(channels):
    with pytest.raises(SpecError):
        with_channels(load_standard("DDR4-3200"), channels)


def test_channels_split_a_stream_and_scale_the_peak():
    entries = [TraceEntry(i * 64, False) for i in range(4000)]
    one = simulate("DDR4-3200", entries, mapping="ramulator:RoBaRaCoCh", engine="fast")
    two = simulate("DDR4-3200", entries, mapping="ramulator:RoBaRaCoCh", engine="fast",
                   channels=2)
    ref = simulate("DDR4-3200", entries, mapping="ramulator:RoBaRaCoCh", engine="loop",
                   channels=2)
    assert two.peak_bandwidth_gbps == pytest.approx(2 * one.peak_bandwidth_gbps)
    assert two.cycles < 0.6 * one.cycles
    assert (two.cycles, two.row_hits, two.command_counts) == (ref.cycles, ref.row_hits,
                                                             ref.command_counts)
    assert {c.channel for c in two.trace} == {0, 1}
    std = with_channels(load_standard("DDR4-3200"), 2)
    assert check_trace(std, two.trace, end_cycle=two.cycles) == []


def test_ramulator_trace_forms():
    org = load_standard("GDDR6-14000-Ramulator").organization
    amap = AddressMapping.parse("ramulator:RoBaRaCoCh", org)
    lines = ["LD 0x40", "ST 4096", "R 0x80", "W 96", "", "R 1,2,3,100,5", "W 0,0,1,2,7,3"]
    got = parse_trace_lines(lines, "t", trace_format="ramulator",
                            vector_address=vector_address(amap, org))
    assert [(e.address, e.is_write, e.arrival) for e in got[:4]] == [
        (0x40, False, 0), (4096, True, 0), (0x80, False, 0), (96, True, 0)]
    assert amap.decode(got[4].address) == DecodedAddress(1, 0, 2, 3, 100, 5)
    assert got[5].is_write and amap.decode(got[5].address) == DecodedAddress(0, 0, 1, 2, 7, 3)


@pytest.mark.parametrize("line", ["LD", "LD 0x40 12", "ld 0x40", "READ 0x40", "LD 1,2,3,4,5",
                                  "R 0,0,9,0,0,0", "R 1,2", "R 0xZZ", "R a,b"])
def test_ramulator_trace_errors_name_the_line(line):
    org = load_standard("DDR4-3200").organization
    amap = AddressMapping.parse("ramulator:RoBaRaCoCh", org)
    with pytest.raises(SpecError, match="t:2"):
        parse_trace_lines(["LD 0", line], "t", trace_format="ramulator",
                          vector_address=vector_address(amap, org))


def test_cli_channels_and_ramulator_trace(tmp_path):
    path = tmp_path / "t.trace"
    path.write_text("".join(f"LD {i * 64:#x}\n" for i in range(64)) + "ST 0x0\n")
    runner = CliRunner()
    res = runner.invoke(dram, ["--standard", "DDR4-3200", "--trace", str(path),
                               "--trace-format", "ramulator", "--mapping", "ramulator:RoBaRaCoCh",
                               "--channels", "2", "--engine", "fast", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["channels"], out["requests"], out["writes"], out["checker_violations"]) == (
        2, 65, 1, 0)
    assert out["mapping"] == "ramulator:RoBaRaCoCh"
    res = runner.invoke(dram, ["--standard", "DDR4-3200", "--trace", str(path), "--format",
                               "ramulator", "--engine", "loop"])
    assert res.exit_code == 0 and "65 (64 reads, 1 writes)" in res.stdout
    bad = runner.invoke(dram, ["--standard", "DDR4-3200", "--synthetic", "stream",
                               "--channels", "3"])
    assert bad.exit_code != 0 and "power of two" in str(bad.exception)


RAMULATOR_PRESETS = ("GDDR6-14000-Ramulator", "HBM2-2000-Ramulator", "HBM3-6400-Ramulator",
                     "DDR5-4800")


@pytest.mark.parametrize("name", RAMULATOR_PRESETS)
def test_presets_cite_their_source_and_run_clean(name):
    assert name in available_standards()
    std = load_standard(name)
    assert "Ramulator" in std.source and "commit" in std.source
    rng = random.Random(2)
    entries = [TraceEntry(rng.randrange(0, 1 << 24) & ~31, rng.random() < 0.3)
               for _ in range(1500)] + [TraceEntry(i * 32, False) for i in range(1500)]
    for refresh in ("all_bank", "per_bank") if std.refresh.per_bank_command else ("all_bank",):
        res = simulate(std, entries, mapping="ramulator:RoBaRaCoCh", engine="fast",
                       refresh=refresh, channels=2)
        assert check_trace(with_channels(std, 2), res.trace, end_cycle=res.cycles,
                           check_refresh=False) == []


def test_preset_values_named_in_the_issue():
    g = load_standard("GDDR6-14000-Ramulator")
    assert g.tck_ps == 570 and g.organization.burst_bytes == 32
    assert [g.timing(k) for k in ("nRCDRD", "nRP", "nRAS", "nFAW", "nCCD_L")] == [27, 27, 53, 29, 4]
    h = load_standard("HBM2-2000-Ramulator")
    assert (h.organization.channels, h.organization.ranks, h.organization.burst_bytes) == (1, 2, 32)
    assert [h.timing(k) for k in ("nFAW", "nRRD_L", "nCCD_L")] == [15, 4, 4]
    assert all(not c.sibling for c in h.constraints)
    assert {c.level for c in h.constraints if c.name == "tBL"} == {"rank"}


# --- DDR4-3200 vs Ramulator 2.1 (shared/reference/ramulator_ddr4.json) ---------------------

REFERENCE = load("ramulator_ddr4.json")


def _reference_traces(n: int) -> dict[str, list[TraceEntry]]:
    """The reference's three traces, as its `traces` entry describes them."""
    rng = random.Random(7)
    return {"seq.trace": [TraceEntry(i * 64, False) for i in range(n)],
            "rnd.trace": [TraceEntry(rng.randrange(0, 1 << 30) & ~63, False) for _ in range(n)],
            "seq_rw.trace": [TraceEntry(i * 64, i % 4 == 3) for i in range(n)]}


@pytest.mark.skipif(REFERENCE is None, reason="shared/reference/ramulator_ddr4.json not present")
@pytest.mark.parametrize("trace", ["seq.trace", "rnd.trace", "seq_rw.trace"])
def test_ddr4_cycles_within_2_percent_of_ramulator(trace):
    assert "RoBaRaCoCh" in REFERENCE["config"]["common"]
    case = next(c for c in REFERENCE["results"] if c["std"] == "DDR4" and c["trace"] == trace)
    entries = _reference_traces(case["reqs"])[trace]
    res = simulate("DDR4-3200", entries, mapping="ramulator:RoBaRaCoCh", policy="open",
                   refresh="all_bank", engine="fast", trace=False)
    assert res.requests == case["reqs"]
    assert res.cycles == pytest.approx(case["cycles"], rel=0.02)
    # reported, not claimed (docs/validation.md): hit counts land within 0.1 % of the requests
    assert abs(res.row_hits - case["row_hits"]) <= 0.001 * case["reqs"]
