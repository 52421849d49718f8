"""FPGA-equivalent resource columns: hand computation from a synthesis table, the committed
table found from any working directory, and the columns in the report."""
from __future__ import annotations

import math
import textwrap

import pytest

from experiments import fpga
from experiments.cli import main
from experiments.families.bitserial import BitserialParams, accelerator
from workloads.errors import SpecError

CSV = textwrap.dedent("""\
    unit,target,width_param,width,params,luts,ffs,brams,dsps,fmax_mhz_median,fmax_mhz_per_seed
    bank_mac,ecp5,lanes,4,lanes=4,4000,200,0,4,20.0,20.0
    bank_mac,ecp5,lanes,16,lanes=16,16000,900,0,16,20.0,20.0
    bank_mac,ice40,lanes,16,lanes=16,1,1,0,0,20.0,20.0
    bitserial_pe,ecp5,act_width,8,acc_width=24;act_width=8;lanes=4,700,150,0,0,130.0,130.0
    bitserial_pe,ecp5,act_width,16,acc_width=32;act_width=16;lanes=4,1200,200,0,0,120.0,120.0
    dequant,ecp5,psum_width,24,psum_width=24,450,180,0,0,25.0,25.0
    dequant,ecp5,psum_width,32,psum_width=32,500,190,0,1,25.0,25.0
    term_decoder,ecp5,lanes,2,lanes=2,300,50,0,0,160.0,160.0
    term_decoder,ecp5,lanes,8,lanes=8,1000,200,0,0,150.0,150.0
    online_softmax,ecp5,width,8,frac_bits=4;max_row_log2=16;width=8,330,90,0,4,50.0,50.0
    online_softmax,ecp5,width,12,frac_bits=6;max_row_log2=16;width=12,350,100,0,4,50.0,50.0
    online_softmax,ecp5,width,16,frac_bits=8;max_row_log2=16;width=16,370,120,0,4,50.0,50.0
    """)


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "synth.csv"
    path.write_text(CSV)
    return fpga.load_table(path)


def test_pim_is_channels_times_16_banks_of_16_lane_macs(table):
    est = fpga.estimate("pim", {"channels": 4}, "gpt2", table)
    assert est == {"fpga_luts": 4 * 16 * 16000, "fpga_ffs": 4 * 16 * 900, "fpga_dsps": 4 * 16 * 16}


def test_attention_is_one_softmax_unit_per_1d_pe_at_16_bits(table):
    est = fpga.estimate("attention", {"width_1d": 128}, "bert-base", table)
    assert est == {"fpga_luts": 128 * 370, "fpga_ffs": 128 * 120, "fpga_dsps": 128 * 4}


def test_bitserial_is_pes_plus_one_dequant_each_plus_a_decoder_per_row(table):
    accel = accelerator(BitserialParams(rows=8, cols=4), "gpt2")
    assert accel.pes == 32 and accel.pe.lanes == 4     # act_bits 16 -> PE row act 16/acc 32 -> dequant 32
    est = fpga.estimate("bitserial", {"rows": 8, "cols": 4}, "gpt2", table)
    # 4 lanes: the nearest decoder row is the 2-lane one (|4-2| < |8-4|)
    assert est == {"fpga_luts": 32 * (1200 + 500) + 8 * 300, "fpga_ffs": 32 * (200 + 190) + 8 * 50,
                   "fpga_dsps": 32 * 1}
    wide = fpga.estimate("bitserial", {"rows": 8, "cols": 4, "lanes": 8}, "gpt2", table)
    assert wide["fpga_luts"] == 32 * (1200 * 8 / 4 + 500) + 8 * 1000


def test_no_rtl_gives_nan(table):
    assert all(math.isnan(v) for v in fpga.estimate("bitserial", {"accel": "fp16"}, "gpt2", table).values())
    assert all(math.isnan(v) for v in fpga.estimate("roofline", {"pes": 64}, "gpt2", table).values())


def test_nearest_width_prefers_the_wider_on_a_tie(table):
    assert fpga.nearest_row(table, "online_softmax", 10)["width"] == 12
    assert fpga.nearest_row(table, "online_softmax", 14)["width"] == 16
    assert fpga.nearest_row(table, "bank_mac", 10)["width"] == 16
    with pytest.raises(SpecError):
        fpga.nearest_row(table, "bank_mac", 16, target="xc7")


def test_committed_table_is_found_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    committed = fpga.load_table()
    assert fpga.DEFAULT_TABLE.is_absolute()
    for unit in ("bank_mac", "bitserial_pe", "dequant", "online_softmax", "term_decoder"):
        assert ((committed["unit"] == unit) & (committed["target"] == "ecp5")).sum() >= 2
    row = fpga.nearest_row(committed, "bank_mac", 16)
    assert fpga.estimate("pim", {"channels": 2}, "gpt2")["fpga_luts"] == 2 * 16 * row["luts"]
    with pytest.raises(SpecError, match="not found"):
        fpga.load_table(tmp_path / "missing.csv")


EXP = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [decode], seq_len: [32], layers: 1}
    architectures:
      - {family: pim, sweep: {channels: [4, 8]}}
      - {family: bitserial, sweep: {rows: [8, 16]}}
    objectives: {latency_s: min, energy_j: min}
    """)


def test_report_shows_the_fpga_columns(tmp_path):
    (tmp_path / "e.yaml").write_text(EXP)
    runs, reports = tmp_path / "runs", tmp_path / "reports"
    assert main(["sweep", str(tmp_path / "e.yaml"), "--run", "f", "--runs-dir", str(runs), "--quiet"]) == 0
    assert main(["report", "f", "--runs-dir", str(runs), "--reports-dir", str(reports)]) == 0
    html = (reports / "f" / "index.html").read_text()
    md = (reports / "f" / "index.md").read_text()
    assert "fpga-note" in html and "FPGA-equivalent estimate" in md
    lines = md[md.index("## Pareto-optimal points"):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| point_id"))
    cols = [c.strip() for c in lines[start].strip("|").split("|")]
    assert all(c in cols for c in fpga.COLUMNS) and cols.index("fpga_luts") > cols.index("energy_j")
    body = lines[start + 2:]
    body = body[:next(i for i, line in enumerate(body) if not line.startswith("|"))]
    rows = [dict(zip(cols, (v.strip() for v in line.strip("|").split("|")))) for line in body]
    table = fpga.load_table()
    assert rows
    for r in rows:
        params = {"channels": int(float(r["channels"]))} if r["family"] == "pim" else {"rows": int(float(r["rows"]))}
        expect = fpga.estimate(r["family"], params, "gpt2", table)["fpga_luts"]
        assert float(r["fpga_luts"]) == pytest.approx(expect, rel=1e-3)
    if any(r["family"] == "pim" for r in rows):
        r = next(r for r in rows if r["family"] == "pim")
        bank = fpga.nearest_row(table, "bank_mac", 16)
        assert float(r["fpga_luts"]) == pytest.approx(int(float(r["channels"])) * 16 * bank["luts"], rel=1e-3)
