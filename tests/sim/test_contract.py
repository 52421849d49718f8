"""The Mapping/Result contract: totals derive from the rows; coverage and MACs are checked."""
from __future__ import annotations

import pandas as pd
import pytest

from sim.contract import EinsumMapping, Mapping, Result
from workloads import lower


def _rows(cascade, **override):
    rows = pd.DataFrame({"einsum": [e.name for e in cascade.einsums], "unit": "u",
                         "macs": [s.macs for s in cascade.stats], "cycles": 1.0, "latency_s": 1e-9,
                         "energy_mac_j": 2e-12, "energy_dram_j": 3e-12, "offchip_bytes": 4.0})
    for k, v in override.items():
        rows[k] = v
    return rows


@pytest.fixture(scope="module")
def cascade():
    return lower("gpt2", "decode", seq_len=16, layers=1)


def test_totals_are_sums_of_the_rows(cascade):
    n = len(cascade.einsums)
    r = Result("t", _rows(cascade), design={"area_mm2": 2.0}, tokens=1)
    tot = r.totals()
    assert tot["latency_s"] == pytest.approx(n * 1e-9)
    assert tot["energy_j"] == pytest.approx(n * 5e-12)
    assert tot["energy_mac_j"] == pytest.approx(n * 2e-12)
    assert tot["offchip_bytes"] == 4.0 * n
    assert tot["macs"] == sum(s.macs for s in cascade.stats)
    assert tot["throughput_per_area"] == pytest.approx(1 / (n * 1e-9) / 2.0)
    assert list(r.energy_by("unit")) == pytest.approx([n * 5e-12])
    r.check_covers(cascade)


def test_a_missing_column_is_refused(cascade):
    with pytest.raises(ValueError, match="cycles"):
        Result("t", _rows(cascade).drop(columns="cycles"))


def test_coverage_and_macs_are_checked(cascade):
    rows = _rows(cascade)
    with pytest.raises(AssertionError, match="missing"):
        Result("t", rows.iloc[1:]).check_covers(cascade)
    with pytest.raises(AssertionError, match="duplicated"):
        Result("t", pd.concat([rows, rows.iloc[:1]])).check_covers(cascade)
    wrong = rows.copy()
    wrong.loc[wrong["macs"] > 0, "macs"] += 1
    with pytest.raises(AssertionError, match="MACs differ"):
        Result("t", wrong).check_covers(cascade)


def test_mapping_lookup(cascade):
    m = Mapping("t", "s", cascade, tuple(EinsumMapping(e.name, "a" if i % 2 else "b")
                                          for i, e in enumerate(cascade.einsums)))
    assert m.units == ("b", "a")
    assert m.of(cascade.einsums[1].name).unit == "a"
    with pytest.raises(KeyError):
        m.of("nope")


def test_every_family_spec_is_an_arch_spec():
    from sim.attention_array.arch import FUSEMAX
    from sim.bitserial.presets import accelerator
    from sim.contract import ArchSpec
    from sim.pim.spec import PimSystem
    from sim.roofline import PRESETS

    specs = [*PRESETS.values(), PimSystem(), accelerator("bitmod-lossy", "generative", "llama-2-7b"), FUSEMAX]
    for spec in specs:
        assert isinstance(spec, ArchSpec), type(spec).__name__
        assert spec.name and spec.clock_hz > 0 and spec.source, spec.name
