"""Bank MAC RTL vs `sim.units.bank_mac`: every result bit and cycle over >= 10,000 bursts."""
import dataclasses

import pytest

from hw.cosim import run_cosim
from hw.units import get_unit
from sim.units.bank_mac import BankMacModel

UNIT = get_unit("bank_mac")


def _check(report):
    assert report.ok, f"{report.summary()} (rerun with seed={report.seed})"


def test_cosim_10k_random_and_edge_cases_4_lanes(tmp_path):
    report = run_cosim(UNIT, UNIT.resolve({"lanes": 4}), vectors=10_000, seed=2024,
                       vcd_on_failure=tmp_path / "bank_mac_fail.vcd")
    print(report.summary())
    _check(report)
    assert report.vectors >= 10_000 + 900 and report.results > 500


def test_cosim_16_lanes_aim_width(tmp_path):
    report = run_cosim(UNIT, UNIT.resolve({"lanes": 16}), vectors=500, seed=7,
                       vcd_on_failure=tmp_path / "bank_mac16_fail.vcd")
    _check(report)


def test_injected_rounding_flip_is_caught_with_vcd(tmp_path, capsys):
    params = UNIT.resolve({"lanes": 4})
    vcd = tmp_path / "fail.vcd"
    report = run_cosim(UNIT, params, vectors=300, seed=5, model=BankMacModel(4, rounding="rtz"),
                       vcd_on_failure=vcd)
    assert not report.ok and report.mismatch.rtl[0] != report.mismatch.model[0]
    assert vcd.exists() and vcd.stat().st_size > 0
    assert "seed=5" in report.summary()


def test_injected_latency_error_is_caught():
    @dataclasses.dataclass(frozen=True)
    class Slow(BankMacModel):
        @property
        def latency_cycles(self):
            return super().latency_cycles + 1

    report = run_cosim(UNIT, UNIT.resolve({"lanes": 4}), vectors=50, seed=1, model=Slow(4))
    assert not report.ok and report.mismatch.rtl[0] == report.mismatch.model[0]
    assert report.mismatch.rtl[1] + 1 == report.mismatch.model[1]


def test_bad_lanes_is_spec_error():
    from workloads.errors import SpecError
    with pytest.raises(SpecError):
        UNIT.resolve({"lanes": "12"})
