"""`sim.pim.simulate`: one row per Einsum with the cascade's MACs; rows add up to the analytic run."""
import dataclasses

import pytest

import mappers.pim
from sim.contract import energy_columns
from sim.pim import simulate
from sim.pim.analytic import AnalyticRunner, run_analytic
from sim.pim.energy import energy_parts_j
from sim.pim.spec import PimSystem
from workloads import lower

SYSTEM = PimSystem()


def _result(cascade, system=SYSTEM):
    return simulate(mappers.pim.map(cascade, system), system)


@pytest.mark.parametrize("model, kwargs", [
    ("gpt2", {}), ("gpt2-xl", {"layers": 2}), ("gpt3-1.3b", {"layers": 1}), ("opt-1.3b", {"layers": 1}),
    ("llama-2-7b", {"layers": 1}), ("llama-3-8b", {"layers": 1}), ("phi-2", {"layers": 1}),
    ("gpt2", {"layers": 1, "batch": 3}), ("gpt2", {"layers": 1, "lm_head": "none"}),
])
def test_rows_cover_the_cascade_with_its_macs(model, kwargs):
    cascade = lower(model, "decode", seq_len=64, **kwargs)
    result = _result(cascade)
    result.check_covers(cascade)
    assert set(result.rows["unit"]) <= {"pim", "asic", "link"}
    assert (result.rows["latency_s"] > 0).all()


def test_rows_add_up_to_the_analytic_run_and_its_energy():
    cascade = lower("gpt2", "decode", seq_len=300, layers=2)
    plan = mappers.pim.map_decode(cascade, SYSTEM)
    run = run_analytic(SYSTEM.standard, plan.steps(300, runs=True), SYSTEM.channels)
    result = _result(cascade)
    tck_s = SYSTEM.standard.tck_ns * 1e-9
    assert result.rows["cycles"].sum() == run.cycles
    assert result.latency_s == pytest.approx(run.cycles * tck_s, rel=1e-12)
    asic_s = run.cycles_by_kind()["asic"] * tck_s
    whole = energy_parts_j(run.counts, asic_s, plan.transfer_bytes, SYSTEM)
    for col in energy_columns(result.rows):
        assert result.rows[col].sum() == pytest.approx(whole[col], rel=1e-12)
    assert result.rows["refresh_s"].sum() == pytest.approx(run.cycles_by_kind()["pim_refresh"] * tck_s, rel=1e-12)


def test_units_carry_their_own_costs():
    result = _result(lower("gpt2", "decode", seq_len=128, layers=1))
    rows = result.rows.set_index("einsum")
    assert rows.loc["L0.Q_mm", "energy_mac_j"] > 0 and rows.loc["L0.Q_mm", "energy_asic_j"] == 0
    assert rows.loc["L0.SN", "energy_asic_j"] > 0 and rows.loc["L0.SN", "energy_mac_j"] == 0
    # the K append: 768 fp16 values over the buses, charged at the I/O energy, no ASIC time
    assert rows.loc["L0.Kcache", "offchip_bytes"] == 768 * 2
    assert rows.loc["L0.Kcache", "energy_io_j"] == pytest.approx(768 * 2 * 8 * SYSTEM.io_pj_per_bit * 1e-12)
    assert rows.loc["L0.Kcache", "energy_asic_j"] == 0
    # a MAC_AB reads one 32 B column in each of 16 banks: 512 B per 256 MACs
    assert rows.loc["L0.Q_mm", "bytes_bank"] == 768 * 768 * 2


def test_design_figures_and_tokens():
    result = _result(lower("gpt2", "decode", batch=2, seq_len=64, layers=1))
    assert {"area_mm2", "speedup_vs_gpu_roofline", "speedup_vs_gpu_eager"} <= set(result.design)
    assert result.tokens == 2


def test_a_multi_token_decode_is_one_continuous_stream():
    cascade = lower("gpt2", "decode", seq_len=20, layers=1)
    system = dataclasses.replace(SYSTEM, decode_tokens=5)
    mapping = mappers.pim.map(cascade, system)
    result = simulate(mapping, system)
    runner = AnalyticRunner(system.standard, system.channels)
    plan = mappers.pim.map_decode(cascade, system)
    cycles = sum(runner.run(plan.steps(kv, runs=True)).cycles for kv in range(16, 21))
    assert result.rows["cycles"].sum() == cycles and result.tokens == 5
    rows = result.rows.set_index("einsum")
    stats = {s.name: s.macs for s in cascade.stats}
    assert rows.loc["L0.Q_mm", "macs"] == 5 * stats["L0.Q_mm"]
    assert rows.loc["L0.QK", "macs"] == stats["L0.QK"] // 20 * sum(range(16, 21))
