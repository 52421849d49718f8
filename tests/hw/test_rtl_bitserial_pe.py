"""Bit-serial PE RTL vs `sim.units.bitserial_pe`: every result bit and cycle over >= 10,000
term-cycles (all datatypes, every code, zero/extreme activations, wrapping accumulator)."""
import dataclasses

import pytest

from hw.cosim import run_cosim
from hw.units import get_unit
from sim.units.bitserial_pe import BitSerialPEModel

UNIT = get_unit("bitserial_pe")


def _check(report):
    assert report.ok, f"{report.summary()} (rerun with seed={report.seed})"


def test_cosim_10k_random_and_edge_cases(tmp_path):
    report = run_cosim(UNIT, UNIT.resolve({}), vectors=10_000, seed=2025,
                       vcd_on_failure=tmp_path / "bitserial_pe_fail.vcd")
    print(report.summary())
    _check(report)
    assert report.vectors >= 10_000 + 1_000 and report.results > 400


def test_cosim_narrow_accumulator_wraps_and_wide_activations(tmp_path):
    for params in ({"acc_width": 12}, {"act_width": 16, "acc_width": 40}, {"act_width": 3, "lanes": 2}):
        report = run_cosim(UNIT, UNIT.resolve(params), vectors=300, seed=11,
                           vcd_on_failure=tmp_path / "bitserial_pe_fail.vcd")
        _check(report)


@dataclasses.dataclass(frozen=True)
class _FlipLane0Sign(BitSerialPEModel):
    def lane_value(self, lane, term, act):
        value = super().lane_value(lane, term, act)
        return -value if lane == 0 else value


def test_injected_term_sign_flip_is_caught_with_vcd(tmp_path):
    vcd = tmp_path / "fail.vcd"
    report = run_cosim(UNIT, UNIT.resolve({}), vectors=300, seed=5, model=_FlipLane0Sign(),
                       vcd_on_failure=vcd)
    assert not report.ok and report.mismatch.rtl[0] != report.mismatch.model[0]
    assert vcd.exists() and vcd.stat().st_size > 0


def test_injected_latency_error_is_caught():
    @dataclasses.dataclass(frozen=True)
    class Fast(BitSerialPEModel):
        @property
        def latency_cycles(self):
            return super().latency_cycles - 1

    report = run_cosim(UNIT, UNIT.resolve({}), vectors=50, seed=1, model=Fast())
    assert not report.ok and report.mismatch.rtl[0] == report.mismatch.model[0]
    assert report.mismatch.rtl[1] == report.mismatch.model[1] + 1


def test_bad_param_is_spec_error():
    from workloads.errors import SpecError
    with pytest.raises(SpecError):
        UNIT.resolve({"act_width": "40"})
