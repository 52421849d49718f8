"""The `dram:` switch of the bit-serial accelerator: bandwidth model vs command-level `sim.dram`.

References are independent of the adapter: `sim.dram.simulate` run directly on the same request
stream (with refresh), the standards' closed-form peaks, the checked-in cycle-mode CSV, and the
bytes / bandwidth stepping (`step_schedule`, a `LinearBus`) and to the checked-in cycle-mode CSV.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.reproductions.bitmod import run_phase, run_task, totals
from mappers.bitserial.gemm import Gemm, model_gemms
from mappers.bitserial.schedule import gemm_plan, tile_schedule
from sim.bitserial import energy
from sim.bitserial.cycle import cycle_gemm
from sim.bitserial.dram_timing import DramBus, refresh_cost, standard_for, stream
from sim.bitserial.engine import step_schedule, step_schedule_bus
from sim.bitserial.presets import accelerator, parse_dram
from sim.bitserial.spec import CommandDram
from sim.dram import check_trace, simulate
from workloads.errors import SpecError

ROOT = Path(__file__).resolve().parents[3]
HBM2 = parse_dram("HBM2")  # 2 pseudo channels x 64 b at 2 Gb/s = the paper's 128-bit DDR bus


def _rcd(std) -> int:
    return std.timings.get("nRCD", std.timings.get("nRCDRD"))


def _clean(std, trace, refresh: bool, end=None):
    """Zero checker violations; runs with refresh off are checked without the refresh cadence."""
    v = check_trace(std, trace, check_refresh=refresh, max_postponed=0 if refresh else None, end_cycle=end)
    assert v == [], v[:3]


def test_hbm2_default_is_the_papers_bus():
    std = standard_for(HBM2)
    assert HBM2.channels == 2
    assert std.peak_bandwidth_gbps == pytest.approx(accelerator("fp16", "generative", "llama-2-7b").dram.bytes_per_cycle)
    assert std.tck_ns == 1.0


def test_large_streaming_load_achieves_the_dram_models_streaming_bandwidth():
    std = standard_for(HBM2)
    nbytes = 512 * 1024
    bus = DramBus(HBM2, clock_ghz=1.0)
    end = bus.serve(0.0, [(nbytes, False)])
    bursts = nbytes // std.organization.burst_bytes
    direct = simulate(std, stream(HBM2, bursts, False), mapping=HBM2.mapping, policy="open",
                      refresh="all_bank", engine="loop")
    _clean(std, direct.trace, refresh=True, end=direct.cycles)
    for cost in bus.used.values():
        _clean(std, cost.trace, refresh=False)
    for trace in refresh_cost(HBM2).traces:
        _clean(std, trace, refresh=trace is refresh_cost(HBM2).traces[1])
    direct_ns = direct.cycles * std.tck_ns
    refreshes = direct.command_counts["REF"] // HBM2.channels
    assert bus.refreshes == refreshes
    # the adapter charges each refresh the calibrated mean penalty; where a REF lands within a
    # row's bursts shifts its cost by at most one row re-activation (tRCD) per channel
    assert abs(end - direct_ns) <= refreshes * _rcd(std) * std.tck_ns
    achieved = nbytes / end
    assert achieved == pytest.approx(direct.bandwidth_gbps, rel=5e-3)
    assert 0.90 < achieved / std.peak_bandwidth_gbps < 1.0  # docs/dram.md: HBM2 RoRaBaCoBgCh 93.1 %


def test_decode_gemm_is_slower_than_the_bus_peak_and_within_the_standards_efficiency():
    g = Gemm("q_proj", "linear", 0, 1, 1, 4096, 4096)
    bw = accelerator("bitmod-lossy", "generative", "llama-2-7b")
    cmd = accelerator("bitmod-lossy", "generative", "llama-2-7b", HBM2)
    std = standard_for(HBM2)
    assert std.peak_bandwidth_gbps == pytest.approx(bw.dram.bytes_per_cycle * bw.clock_ghz)
    b, c = cycle_gemm(gemm_plan(g, bw), bw), cycle_gemm(gemm_plan(g, cmd), cmd)
    assert b["stall_cycles"] > 0 and b["dram_bytes"] / bw.dram.bytes_per_cycle > b["compute_cycles"]  # DRAM-bound
    assert c["cycles"] >= b["cycles"]
    # upper bound: every transfer at the refresh-inclusive streaming efficiency of the standard
    # (measured directly on sim.dram), plus per transfer the start from an idle, precharged
    # device: one first-access latency (tRCD + CL + burst) and the ACT ramp that opens every
    # bank of the rank at most four per tFAW window
    bursts = math.ceil(3.5 * std.timing("nREFI") / std.timing("nBL")) * HBM2.channels
    direct = simulate(std, stream(HBM2, bursts, False), mapping=HBM2.mapping, refresh="all_bank", engine="loop")
    eta = direct.bandwidth_efficiency
    sched = tile_schedule(g, bw)
    transfers = int(np.count_nonzero(sched["weight_load_bytes"]) + np.count_nonzero(sched["input_load_bytes"])
                    + np.count_nonzero(sched["store_bytes"]))
    banks = std.organization.banks_per_rank
    first_access = _rcd(std) + std.timing("nCL") + std.timing("nBL") + std.timing("nFAW") * banks // 4
    bound = b["cycles"] / eta + transfers * first_access * std.tck_ns
    assert c["cycles"] <= bound
    # and below 1 / 0.9: every standard's interleaved streaming efficiency is 90.5-95.6 % (docs/dram.md)
    assert 1.0 <= c["cycles"] / b["cycles"] <= 1 / 0.9
    _check_bus_traces(HBM2, sched)


def _check_bus_traces(cfg, sched):
    std = standard_for(cfg)
    bus = DramBus(cfg, 1.0)
    loads = [((w, False), (i, False)) for w, i in zip(sched["weight_load_bytes"], sched["input_load_bytes"])]
    step_schedule_bus(sched["compute_cycles"], loads, [((o, True),) for o in sched["store_bytes"]], bus)
    assert bus.used
    for cost in bus.used.values():
        _clean(std, cost.trace, refresh=False)
    off, on = refresh_cost(cfg).traces
    _clean(std, off, refresh=False)
    _clean(std, on, refresh=True)


def test_ddr4_decode_is_bounded_by_its_lower_peak():
    g = Gemm("q_proj", "linear", 0, 1, 1, 4096, 4096)
    ddr4 = parse_dram("DDR4-3200")
    assert (ddr4.channels, ddr4.mapping) == (1, "RoRaBaCoBgCh")
    bw = accelerator("bitmod-lossy", "generative", "llama-2-7b")
    cmd = accelerator("bitmod-lossy", "generative", "llama-2-7b", ddr4)
    c = cycle_gemm(gemm_plan(g, cmd), cmd)
    b = cycle_gemm(gemm_plan(g, bw), bw)
    peak_ratio = bw.dram.bytes_per_cycle / standard_for(ddr4).peak_bandwidth_gbps  # 32 / 25.6
    assert c["cycles"] >= b["cycles"] * min(1.0, peak_ratio)  # bus peak below the bandwidth model's
    assert c["cycles"] <= b["cycles"] * peak_ratio / 0.9
    _check_bus_traces(ddr4, tile_schedule(g, bw))


def test_bandwidth_default_is_bit_identical_to_the_old_path():
    acc = accelerator("bitmod-lossy", "generative", "llama-2-7b")
    assert acc.dram.model == "bandwidth"
    for g in model_gemms("llama-2-7b", "decode", 256, 1):
        s = tile_schedule(g, acc)
        old = step_schedule(s["compute_cycles"], s["load_bytes"], s["store_bytes"], acc.dram.bytes_per_cycle)
        r = cycle_gemm(gemm_plan(g, acc), acc)
        assert (r["cycles"], r["fill_cycles"], r["stall_cycles"], r["drain_cycles"]) == (
            old.cycles, old.fill_cycles, old.stall_cycles, old.drain_cycles)
        moved = float(s["load_bytes"].sum()) + float(s["store_bytes"].sum())
        assert r["energy_dram_pj"] == energy.dram_pj(acc, moved)


def test_bandwidth_default_matches_the_checked_in_cycle_csv():
    table = pd.read_csv(ROOT / "reports/bitmod/bitmod_cycle.csv")
    rows = table[(table.model == "llama-2-7b") & (table.accel == "bitmod-lossy")]
    assert len(rows) == 2
    for row in rows.itertuples():
        t = totals(run_task("llama-2-7b", "bitmod-lossy", row.task, "cycle"))
        for col in ("cycles", "stall_cycles", "dram_bytes", "energy_dram_pj", "energy_total_pj"):
            assert t[col] == pytest.approx(getattr(row, col), rel=5e-6)  # CSV holds 6 significant digits


@pytest.mark.parametrize("value", ["DDR5", {"standard": "HBM2", "channels": 3},
                                   {"standard": "HBM2", "mapping": "RaRoBaCoBgCh"},
                                   {"standard": "HBM2", "banks": 2}, 4])
def test_bad_dram_switch_raises_spec_error(value):
    with pytest.raises(SpecError):
        accelerator("bitmod-lossy", "generative", "llama-2-7b", value)


def test_command_level_needs_cycle_mode():
    with pytest.raises(SpecError):
        run_phase("llama-2-7b", "bitmod-lossy", "generative", "decode", "paper", layers=1, dram="HBM2")


def test_dict_switch():
    cfg = parse_dram({"standard": "DDR4-3200", "channels": 4, "mapping": "RoBaRaCoCh"})
    assert cfg == CommandDram("DDR4-3200", 4, "RoBaRaCoCh", cfg.source)
    assert standard_for(cfg).peak_bandwidth_gbps == pytest.approx(102.4)
