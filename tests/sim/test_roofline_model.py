"""Roofline model against closed forms; totals equal sums of rows."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.roofline import (ENERGY_COLUMNS, PRESETS, RooflineSpec, accelerator, einsum_rows, get_preset,
                          simulate_cascade, sram_area_mm2_per_byte, sram_energy_j_per_byte)
from workloads import SpecError, lower


class _Fake:
    def __init__(self, rows, meta=None):
        self._t = pd.DataFrame(rows)
        self.meta = meta or {"phase": "decode", "batch": 1, "queries": 1}

    def table(self):
        return self._t


def _row(name, macs, ops, read, written):
    return {"einsum": name, "layer": 0, "group": "mlp", "kind": "einsum", "macs": macs, "ops": ops,
            "bytes_read": read, "bytes_written": written}


SPEC = RooflineSpec(name="t", peak_macs_per_s=1e12, vector_ops_per_s=1e10, buffer_bytes=2**30,
                    dram_bandwidth_bytes_per_s=1e11, dram_energy_j_per_bit=1e-12, mac_energy_j=2e-12,
                    vector_op_energy_j=1e-12, sram_energy_j_per_byte=0.5e-12, area_mm2=10.0, static_power_w=1.0)


def test_pure_compute_einsum():
    macs = 1e9
    res = simulate_cascade(_Fake([_row("C", macs, 2 * macs, 1e6, 1e6)]), SPEC)
    r = res.rows.iloc[0]
    assert r["bound"] == "compute"
    assert r["latency_s"] == pytest.approx(macs / 1e12)
    assert r["energy_mac_j"] == pytest.approx(macs * 2e-12)
    assert r["offchip_bytes"] == 2e6
    assert r["energy_dram_j"] == pytest.approx(2e6 * 8 * 1e-12)
    assert r["energy_static_j"] == pytest.approx(1e-3)


def test_pure_memory_einsum():
    nbytes = 1e9
    res = simulate_cascade(_Fake([_row("M", 0, 0, nbytes, nbytes)]), SPEC)
    r = res.rows.iloc[0]
    assert r["bound"] == "memory"
    assert r["latency_s"] == pytest.approx(2 * nbytes / 1e11)
    assert r["energy_sram_j"] == pytest.approx(2 * 2 * nbytes * 0.5e-12)
    assert res.totals()["utilization"] == 0.0


def test_vector_ops_bound():
    res = simulate_cascade(_Fake([_row("V", 0, 1e8, 8.0, 8.0)]), SPEC)
    assert res.rows.iloc[0]["latency_s"] == pytest.approx(1e8 / 1e10)


def test_small_buffer_applies_matmul_io_bound():
    spec = RooflineSpec(**{**SPEC.as_dict(), "buffer_bytes": 2 * 1024.0})
    macs = 1e9
    rows = einsum_rows(pd.DataFrame([_row("G", macs, 2 * macs, 1e3, 1e3)]), spec)
    words = 1024
    assert rows.iloc[0]["offchip_bytes"] == pytest.approx(2 * macs / math.sqrt(words) * 2)


def test_totals_are_sums_of_rows():
    cascade = lower("gpt2", "decode", seq_len=16, layers=1)
    res = simulate_cascade(cascade, get_preset("edge-45nm"))
    assert len(res.rows) == len(cascade.table())
    assert res.latency_s == pytest.approx(res.rows["latency_s"].sum())
    assert res.energy_j == pytest.approx(sum(res.rows[c].sum() for c in ENERGY_COLUMNS))
    tot = res.totals()
    assert tot["edp_js"] == pytest.approx(tot["energy_j"] * tot["latency_s"])
    assert 0 < tot["utilization"] <= 1
    assert (res.rows["latency_s"] >= res.rows[["compute_s", "memory_s"]].max(axis=1) - 1e-18).all()


def test_accelerator_area_and_energy_from_tables():
    spec = accelerator(1024, 1e9, 2**20, 25.6e9, node_nm=45, fixed_area_mm2=1.0)
    mac_mm2 = (1360 + 1640) * 1e-6
    expected = 1024 * mac_mm2 + 128 * mac_mm2 + 2**20 * sram_area_mm2_per_byte(45) + 1.0
    assert spec.area_mm2 == pytest.approx(expected)
    assert spec.mac_energy_j == pytest.approx(1.5e-12)
    assert spec.peak_macs_per_s == 1024e9
    assert sram_energy_j_per_byte(2**20, 45) == pytest.approx(100e-12 / 8)
    small = accelerator(1024, 1e9, 2**20, 25.6e9, node_nm=28)
    assert small.area_mm2 < spec.area_mm2 and small.mac_energy_j < spec.mac_energy_j


def test_presets_and_errors():
    a100 = PRESETS["a100-40gb"]
    assert a100.peak_macs_per_s == pytest.approx(156e12)
    assert a100.ridge_macs_per_byte == pytest.approx(156e12 / 1555e9)
    with pytest.raises(SpecError):
        get_preset("nope")
    with pytest.raises(SpecError):
        accelerator(16, 1e9, 1024, 1e9, node_nm=7)
    with pytest.raises(SpecError):
        RooflineSpec(**{**SPEC.as_dict(), "peak_macs_per_s": 0.0})
