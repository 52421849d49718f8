"""Code-to-term decoder RTL vs `sim.units.term_decoder` (i.e. `sim.numerics.terms.unified_terms`):
every term bit and cycle over >= 10,000 random weight slots plus every code of every datatype in
every lane; injected model errors are caught."""
import dataclasses

from hw.cosim import run_cosim
from hw.units import get_unit
from sim.units.term_decoder import TermDecoderModel

UNIT = get_unit("term_decoder")


def _check(report):
    assert report.ok, f"{report.summary()} (rerun with seed={report.seed})"


def test_cosim_10k_random_slots_and_every_code(tmp_path):
    report = run_cosim(UNIT, UNIT.resolve({}), vectors=10_000, seed=2027,
                       vcd_on_failure=tmp_path / "term_decoder_fail.vcd")
    print(report.summary())
    _check(report)
    assert report.results > 2 * 10_000


def test_cosim_one_and_eight_lanes(tmp_path):
    for lanes in (1, 8):
        report = run_cosim(UNIT, UNIT.resolve({"lanes": lanes}), vectors=200, seed=lanes,
                           vcd_on_failure=tmp_path / "term_decoder_fail.vcd")
        _check(report)


@dataclasses.dataclass(frozen=True)
class _BoothMsbFirst(TermDecoderModel):
    def terms_of(self, slot):
        steps = super().terms_of(slot)
        return steps[::-1] if slot.dtype == 0 else steps


def test_injected_term_order_error_is_caught_with_vcd(tmp_path):
    vcd = tmp_path / "fail.vcd"
    report = run_cosim(UNIT, UNIT.resolve({}), vectors=100, seed=3, model=_BoothMsbFirst(), vcd_on_failure=vcd)
    assert not report.ok and report.mismatch.rtl[0] != report.mismatch.model[0]
    assert vcd.exists() and vcd.stat().st_size > 0


def test_injected_latency_error_is_caught():
    @dataclasses.dataclass(frozen=True)
    class Late(TermDecoderModel):
        def run(self, stimulus):
            outs, cycles = super().run(stimulus)
            return outs, [c + 1 for c in cycles]

    report = run_cosim(UNIT, UNIT.resolve({}), vectors=20, seed=1, model=Late())
    assert not report.ok and report.mismatch.rtl[0] == report.mismatch.model[0]
