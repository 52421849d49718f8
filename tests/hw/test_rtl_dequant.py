"""Dequantization-unit RTL vs `sim.units.dequant`: every result bit and cycle over >= 10,000
random group entries plus every 8-bit scale code, the special codes of every datatype at
zero/±1/extreme partial sums, ties, overflow, underflow; injected model errors are caught."""
import dataclasses

import pytest

from hw.cosim import run_cosim
from hw.units import get_unit
from sim.units.dequant import FP16, DequantModel

UNIT = get_unit("dequant")


def _check(report):
    assert report.ok, f"{report.summary()} (rerun with seed={report.seed})"


def test_cosim_10k_random_and_edge_cases(tmp_path):
    report = run_cosim(UNIT, UNIT.resolve({}), vectors=10_000, seed=2026,
                       vcd_on_failure=tmp_path / "dequant_fail.vcd")
    print(report.summary())
    _check(report)
    assert report.vectors >= 10_000 and report.results > 2_000 + 3 * 256


def test_cosim_narrow_and_wide_partial_sums(tmp_path):
    for width in (8, 48):
        report = run_cosim(UNIT, UNIT.resolve({"psum_width": width}), vectors=300, seed=width,
                           vcd_on_failure=tmp_path / "dequant_fail.vcd")
        _check(report)


def test_injected_round_toward_zero_is_caught_with_vcd(tmp_path):
    vcd = tmp_path / "fail.vcd"
    report = run_cosim(UNIT, UNIT.resolve({}), vectors=300, seed=5,
                       model=DequantModel(32, rounding="rtz"), vcd_on_failure=vcd)
    assert not report.ok and report.mismatch.rtl[0] != report.mismatch.model[0]
    assert vcd.exists() and vcd.stat().st_size > 0


@dataclasses.dataclass(frozen=True)
class _FlushSubnormalScales(DequantModel):
    def product(self, entry):
        if entry.fmt == FP16 and entry.scale & 0x7C00 == 0:
            return 0
        return super().product(entry)


def test_injected_subnormal_scale_flush_is_caught():
    report = run_cosim(UNIT, UNIT.resolve({}), vectors=50, seed=1, model=_FlushSubnormalScales())
    assert not report.ok and report.mismatch.model[0] == (0,)


def test_injected_latency_error_is_caught():
    @dataclasses.dataclass(frozen=True)
    class Slow(DequantModel):
        def latency_cycles_of(self, fmt):
            return super().latency_cycles_of(fmt) + 1

    report = run_cosim(UNIT, UNIT.resolve({}), vectors=50, seed=1, model=Slow())
    assert not report.ok and report.mismatch.rtl[0] == report.mismatch.model[0]
    assert report.mismatch.rtl[1] + 1 == report.mismatch.model[1]


def test_bad_param_is_spec_error():
    from workloads.errors import SpecError
    with pytest.raises(SpecError):
        UNIT.resolve({"psum_width": "64"})
