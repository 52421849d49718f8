"""FPGA flow: Verilog export, report parsing, one real synthesis + place-and-route, CLI errors."""
import re

import pandas as pd
import pytest

from experiments.cli import main
from hw.flow import TARGETS, export_verilog, synthesize
from hw.flow.report import plot, update_csv
from hw.flow.synth import count_cells, parse_fmax
from hw.units import get_unit, unit_names


def test_export_verilog_of_every_unit_has_its_ports():
    for name in unit_names():
        unit = get_unit(name)
        params = unit.resolve(unit.sweep[0])
        text = export_verilog(unit.build(params), name)
        assert re.search(rf"^module {name}\s*\(", text, re.M)
        for port in unit.inputs + unit.outputs + (unit.out_valid,):
            assert re.search(rf"\b(input|output)\b[^;]*\b{port}\b", text)


def test_count_cells_and_fmax_parsing():
    stat = {"modules": {"\\top": {"num_cells_by_type": {"SB_LUT4": 9, "SB_DFF": 9}},
                        "\\top.unit": {"num_cells_by_type": {"SB_LUT4": 10, "SB_CARRY": 3, "SB_DFFE": 4,
                                                             "SB_DFFSR": 1, "SB_RAM40_4K": 2}}}}
    assert count_cells(stat, TARGETS["ice40"]) == {"luts": 10, "ffs": 5, "brams": 2, "dsps": 0}
    stat5 = {"modules": {"top.unit": {"num_cells_by_type": {"LUT4": 10, "CCU2C": 3, "TRELLIS_FF": 7,
                                                             "MULT18X18D": 2}}}}
    assert count_cells(stat5, TARGETS["ecp5"]) == {"luts": 16, "ffs": 7, "brams": 0, "dsps": 2}
    nested = {"modules": {"\\top": {"num_cells_by_type": {"LUT4": 50, "top.unit": 1}},
                          "\\top.unit": {"num_cells_by_type": {"LUT4": 3, "TRELLIS_FF": 2, "top.unit.round": 2}},
                          "\\top.unit.round": {"num_cells_by_type": {"LUT4": 10, "CCU2C": 1, "MULT18X18D": 1}}}}
    assert count_cells(nested, TARGETS["ecp5"]) == {"luts": 3 + 2 * 12, "ffs": 2, "brams": 0, "dsps": 2}
    assert parse_fmax({"fmax": {"clk": {"achieved": 41.5, "constraint": 50.0}}}) == 41.5


def test_synth_pe_on_ecp5_from_the_cli_prints_luts_ffs_fmax(tmp_path, capsys):
    """The issue's acceptance command, `einspace rtl synth pe --target ecp5` (one seed)."""
    assert main(["rtl", "synth", "pe", "--target", "ecp5", "--seeds", "1", "--out-dir", str(tmp_path)]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if "on ecp5: LUTs" in l)
    luts, ffs = (int(x) for x in re.search(r"LUTs (\d+), FFs (\d+)", line).groups())
    fmax = float(re.search(r"Fmax ([\d.]+) MHz", line).group(1))
    assert line.lstrip().startswith("bitserial_pe[") and 200 < luts < 5000 and ffs > 4 * 8 + 32
    assert 10.0 < fmax < 500.0
    table = pd.read_csv(tmp_path / "synth.csv")
    assert list(table["unit"]) == ["bitserial_pe"] and table.loc[0, "luts"] == luts
    assert (tmp_path / "synth.png").stat().st_size > 0


def test_synthesize_writes_tool_reports(tmp_path):
    result = synthesize("pe", {"lanes": 1, "acc_width": 8, "act_width": 4}, "ice40", seeds=1,
                        workdir=tmp_path)
    assert (tmp_path / "stat.json").exists() and (tmp_path / "report_seed1.json").exists()
    assert result.unit == "bitserial_pe" and result.luts > 8 and result.ffs >= 8 + 4
    assert result.brams == 0 and result.dsps == 0
    assert result.fmax_mhz_per_seed == (result.fmax_mhz_median,)
    table = update_csv([result], tmp_path / "synth.csv")
    assert table.loc[0, "luts"] == result.luts and table.loc[0, "width"] == 4
    assert plot(table, tmp_path / "synth.png").stat().st_size > 0


@pytest.mark.parametrize("argv", [
    ["rtl", "sim", "nosuchunit"],
    ["rtl", "export", "bank_mac", "-o", "x.v", "-p", "lanes=3"],
    ["rtl", "export", "bank_mac", "-o", "x.v", "-p", "banks=3"],
    ["rtl", "synth", "bank_mac", "--target", "xc7"],
    ["rtl", "synth", "bank_mac", "-p", "lanes"],
])
def test_cli_user_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("einspace: error:") and len(err.strip().splitlines()) == 1


def test_cli_export_and_sim(tmp_path, capsys):
    out = tmp_path / "mac.v"
    assert main(["rtl", "export", "bank_mac", "-o", str(out), "-p", "lanes=2"]) == 0
    assert "module bank_mac" in out.read_text()
    vcd = tmp_path / "mac.vcd"
    assert main(["rtl", "sim", "bank_mac", "-p", "lanes=2", "--vectors", "20", "--vcd", str(vcd)]) == 0
    assert vcd.stat().st_size > 0 and "RTL == model" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("unit_name,target,points", [
    ("bank_mac", "ice40", [{"lanes": 2}, {"lanes": 4}]),
    ("bank_mac", "ecp5", [{"lanes": 4}, {"lanes": 8}]),
    ("online_softmax", "ice40", [{"width": 8, "frac_bits": 4}, {"width": 16, "frac_bits": 8}]),
    ("online_softmax", "ecp5", [{"width": 8, "frac_bits": 4}, {"width": 16, "frac_bits": 8}]),
    ("bitserial_pe", "ecp5", [{"act_width": 8, "acc_width": 24}, {"act_width": 16, "acc_width": 32}]),
    ("dequant", "ecp5", [{"psum_width": 16}, {"psum_width": 32}]),
    ("term_decoder", "ice40", [{"lanes": 2}, {"lanes": 8}]),
])
def test_width_sweep_grows_logic(unit_name, target, points):
    results = [synthesize(unit_name, p, target, seeds=3) for p in points]
    assert all(r.fmax_mhz_median > 0 and len(r.fmax_mhz_per_seed) == 3 for r in results)
    assert results[0].luts < results[1].luts
