"""Presets as YAML with sources: the loader's checks, and the roofline presets' datasheet figures."""
from __future__ import annotations

import pytest

from sim import presets
from sim.roofline import PRESETS, preset
from workloads import SpecError


def test_roofline_presets_carry_their_datasheet_figures():
    a100 = PRESETS["a100-40gb"]
    assert a100.peak_macs_per_s == 312e12 / 2 and a100.dram_bandwidth_bytes_per_s == 1555e9
    assert a100.buffer_bytes == 40 * 2**20 and a100.static_power_w == 400.0
    assert PRESETS["edge-45nm"].peak_macs_per_s == 1024 * 1e9
    assert all(spec.source for spec in PRESETS.values())


@pytest.mark.parametrize("text, message", [
    ("x:\n  kind: processor\n  source: ''\n", "x.source: every preset cites"),
    ("x: 3\n", "expected a mapping"),
    ("x:\n  kind: gpu\n  source: s\n", "x.kind: 'gpu'"),
    ("x:\n  kind: processor\n  peak_flops: 1.0\n  source: s\n", r"x: processor\(\) missing"),
])
def test_a_bad_preset_file_is_one_line(tmp_path, text, message):
    (tmp_path / "roofline.yaml").write_text(text)
    with pytest.raises(SpecError, match=message):
        presets.load("roofline", preset, tmp_path)


def test_a_closed_builder_names_the_unknown_field(tmp_path):
    (tmp_path / "fam.yaml").write_text("p:\n  width: 2\n  depth: 3\n  source: s\n")
    with pytest.raises(SpecError, match=r"fam.yaml: p.depth: unknown field; allowed: name, source, width"):
        presets.load("fam", lambda name, width, source: (name, width), tmp_path)
