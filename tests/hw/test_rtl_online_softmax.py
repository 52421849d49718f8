"""Online-softmax RTL vs `sim.units.online_softmax`: every (l, m) bit and done cycle."""
import dataclasses

from hw.cosim import run_cosim
from hw.units import get_unit
from sim.units.online_softmax import OnlineSoftmaxModel, exp2_table

UNIT = get_unit("online_softmax")


def _check(report):
    assert report.ok, f"{report.summary()} (rerun with seed={report.seed})"


def test_cosim_10k_random_and_edge_cases_16_bit(tmp_path):
    report = run_cosim(UNIT, UNIT.resolve({"width": 16, "frac_bits": 8}), vectors=10_000, seed=99,
                       vcd_on_failure=tmp_path / "softmax_fail.vcd")
    print(report.summary())
    _check(report)
    assert report.vectors >= 10_000 + 4_500 and report.results > 300


def test_cosim_narrow_scores_and_saturation(tmp_path):
    params = UNIT.resolve({"width": 8, "frac_bits": 4, "max_row_log2": 4})
    report = run_cosim(UNIT, params, vectors=2_000, seed=3, vcd_on_failure=tmp_path / "f.vcd")
    _check(report)
    ref_outputs, _ = OnlineSoftmaxModel(8, 4, 4).run(
        UNIT.stimulus(params, 2_000, __import__("random").Random(3)))
    assert ((1 << (16 + 4 + 1)) - 1) in {ell for ell, _ in ref_outputs}


def test_injected_rescale_rounding_is_caught(tmp_path):
    vcd = tmp_path / "fail.vcd"
    params = UNIT.resolve({})
    report = run_cosim(UNIT, params, vectors=500, seed=11, vcd_on_failure=vcd,
                       model=OnlineSoftmaxModel(ell_rounding="nearest"))
    assert not report.ok and vcd.exists() and "seed=11" in report.summary()


def test_injected_one_lsb_table_error_is_caught():
    table = list(exp2_table())
    table[5] += 1
    report = run_cosim(UNIT, UNIT.resolve({}), vectors=500, seed=12,
                       model=OnlineSoftmaxModel(table=tuple(table)))
    assert not report.ok


def test_injected_latency_error_is_caught():
    @dataclasses.dataclass(frozen=True)
    class Fast(OnlineSoftmaxModel):
        @property
        def latency_cycles(self):
            return 1

    report = run_cosim(UNIT, UNIT.resolve({}), vectors=50, seed=1, model=Fast())
    assert not report.ok and report.mismatch.rtl[0] == report.mismatch.model[0]


def test_frac_bits_must_be_below_width():
    import pytest
    from workloads.errors import SpecError
    with pytest.raises(SpecError, match="frac_bits"):
        UNIT.resolve({"width": 8, "frac_bits": 8})
