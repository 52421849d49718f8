"""Malformed experiment files: one clear line naming file, key path and what is allowed; exit 2."""
from __future__ import annotations

import textwrap

import pytest

from experiments import schema
from experiments.cli import main

GOOD = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [decode], seq_len: [16], layers: 1}
    family: roofline
    fixed: {node_nm: 45}
    sweep:
      pes: [256, 1024]
      clock_mhz: {range: [500, 1500, 500]}
      buffer_mib: {logrange: [0.25, 16, 3]}
    objectives: {latency: min, area_mm2: min}
    constraints: {area_mm2: {max: 100}}
    """)


def _write(tmp_path, text):
    p = tmp_path / "exp.yaml"
    p.write_text(text)
    return p


def test_good_file_parses(tmp_path):
    exp, _ = schema.load(_write(tmp_path, GOOD))
    assert exp.axes() == {"pes": [256, 1024], "clock_mhz": [500, 1000, 1500], "buffer_mib": [0.25, 2.0, 16.0]}
    assert exp.objectives == {"latency_s": "min", "area_mm2": "min"}


@pytest.mark.parametrize("old,new,expect", [
    ("family: roofline", "family: roofline\nbogus: 1", "bogus: unknown key; allowed:"),
    ("layers: 1}", "layers: 1, colour: red}", "workloads.colour: unknown key; allowed: models"),
    ("pes: [256, 1024]", "pes: [256, 1024]\n  flux: [1]", "sweep.flux: unknown RooflineParams parameter; allowed:"),
    ("seq_len: [16]", "seq_len: [sixteen]", "workloads.seq_len.0:"),
    ("clock_mhz: {range: [500, 1500, 500]}", "clock_mhz: fast", "sweep.clock_mhz:"),
    ("  pes: [256, 1024]\n  clock_mhz: {range: [500, 1500, 500]}\n  buffer_mib: {logrange: [0.25, 16, 3]}\n",
     "  {}\n", "sweep: empty sweep"),
    ("seq_len: [16]", "seq_len: [-16]", "workloads.seq_len: item 0 is -16; sizes must be positive"),
    ("pes: [256, 1024]", "pes: [256, -4]", "sweep.pes: Input should be greater than 0"),
    ("models: [gpt2]", "models: [gpt5]", "workloads.models: unknown model 'gpt5' (item 0); allowed: gpt2"),
    ("latency: min", "latency: fastest", "objectives.latency_s:"),
    ("area_mm2: min", "area_mm3: min", "objectives.area_mm3: unknown metric; allowed:"),
    ("family: roofline", "family: pim9", "family: unknown family 'pim9'; allowed: roofline"),
    ("{max: 100}", "{max: 100, mean: 3}", "constraints.area_mm2.mean: unknown key; allowed: min, max"),
])
def test_errors_are_one_line_exit_2(tmp_path, capsys, old, new, expect):
    text = GOOD.replace(old, new)
    assert text != GOOD
    path = _write(tmp_path, text)
    rc = main(["sweep", str(path), "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"einspace: error: {path}: "), err
    assert expect in err, err


def test_yaml_syntax_and_missing_file(tmp_path, capsys):
    assert main(["sweep", str(_write(tmp_path, "a: [1, 2\n")), "--quiet"]) == 2
    assert "invalid YAML at line" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "none.yaml"), "--quiet"]) == 2
    assert "cannot read experiment file" in capsys.readouterr().err


def test_search_needs_budget_and_preset_excludes_build(tmp_path):
    with pytest.raises(schema.SpecError, match=r"search: search method 'random' needs a budget"):
        schema.parse(__import__("yaml").safe_load(GOOD + "search: {method: random}\n"), "f.yaml")
    with pytest.raises(schema.SpecError, match="excludes the build parameters pes"):
        schema.parse(__import__("yaml").safe_load(GOOD.replace("node_nm: 45", "preset: v100")), "f.yaml")


def test_examples_validate():
    from pathlib import Path

    files = sorted(Path("experiments/examples").glob("*.yaml"))
    assert len(files) >= 2
    for f in files:
        schema.load(f)


def test_an_unknown_reproduction_is_one_line():
    from experiments.schema import parse
    from workloads.errors import SpecError

    doc = {"workloads": {"models": ["gpt2"]}, "family": "roofline", "sweep": {"pes": [64]},
           "objectives": {"latency_s": "min"}, "reproduce": "nope"}
    with pytest.raises(SpecError, match="reproduce: unknown reproduction 'nope'; allowed: fusemax"):
        parse(doc, "x.yaml")


@pytest.mark.parametrize("sweep, message", [
    ({"pes": {"range": [1, 1e12, 1]}}, "has 1,000,000,000,000 values; an axis has at most 100,000"),
    ({"pes": {"logrange": [1, 1e6, 10**9]}}, "an axis has at most 100,000"),
    ({"pes": {"range": [1, 90000, 1]}, "clock_mhz": {"range": [100, 1500, 100]}},
     "sweep: 1,350,000 design points"),
])
def test_huge_grids_are_refused_before_expansion(sweep, message):
    from experiments.schema import parse
    from workloads.errors import SpecError

    doc = {"workloads": {"models": ["gpt2"]}, "family": "roofline", "sweep": sweep,
           "objectives": {"latency_s": "min"}}
    with pytest.raises(SpecError, match=message):
        parse(doc, "x.yaml")
