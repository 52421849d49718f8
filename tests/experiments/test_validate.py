"""`einspace validate` (docs/validation.md): the fast subset passes every claimed row, the JSON
keys are stable, `--write` writes only where asked, and a perturbed einspace figure fails its
claimed row with exit code 1."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys

import pytest

from experiments.cli import main
from experiments.validation import REFERENCES, run
from experiments.validation.references import REPO
from experiments.validation.row import Row

ROW_KEYS = {"reference", "case", "einspace", "reference_value", "ratio", "tolerance", "bound", "upper", "claimed",
            "passed", "note"}
TOP_KEYS = {"fast", "ok", "rows", "skipped", "wall_s"}


@pytest.fixture(scope="module")
def fast_json():
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["validate", "--fast", "--format", "json"])
    return code, json.loads(buf.getvalue())


def test_the_fast_subset_passes_every_claimed_row(fast_json):
    code, out = fast_json
    failed = [r for r in out["rows"] if r["claimed"] and not r["passed"]]
    assert code == 0 and out["ok"] and not failed, failed
    refs = {r["reference"] for r in out["rows"]}
    assert {"bitmod", "fusemax", "fa2-io-bound"} <= refs
    assert sum(r["claimed"] for r in out["rows"]) > 0
    # the slow references are named as left out, not silently dropped
    assert {"ramulator-ddr4", "pim-gpt"} <= set(out["skipped"])


def test_json_keys_are_stable(fast_json):
    _, out = fast_json
    assert set(out) == TOP_KEYS
    assert out["rows"] and all(set(r) == ROW_KEYS for r in out["rows"])
    assert "total" in out["wall_s"]


def test_every_unclaimed_row_says_where_it_is_explained(fast_json):
    _, out = fast_json
    assert all(r["note"] for r in out["rows"] if not r["claimed"])


def test_row_ratio_and_pass():
    assert Row("x", "c", 102, 100, 0.02, True).passed
    assert not Row("x", "c", 103, 100, 0.02, True).passed
    assert Row("x", "c", 0, 0, 0.0, True).passed
    bad = Row("x", "c", 4, 0, 0.02, False)
    assert math.isinf(bad.ratio) and not bad.passed and bad.to_dict()["ratio"] is None
    assert Row("x", "c", 115, 100, 0.2, True, bound=True).passed
    assert not Row("x", "c", 99, 100, 0.2, True, bound=True).passed  # below a lower bound: wrong
    assert not Row("x", "c", 121, 100, 0.2, True, bound=True).passed


def test_write_only_where_asked(tmp_path, capsys):
    report = REPO / "reports" / "validation.md"
    before = report.stat().st_mtime_ns if report.exists() else None
    assert main(["validate", "--fast", "--only", "fa2-io-bound"]) == 0
    after = report.stat().st_mtime_ns if report.exists() else None
    assert before == after
    assert list(tmp_path.iterdir()) == []
    assert main(["validate", "--fast", "--only", "fa2-io-bound", "--write", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "validation.md").read_text()
    assert text.startswith("# einspace validate") and "| fa2-io-bound |" in text
    assert [p.name for p in tmp_path.iterdir()] == ["validation.md"]  # no temporary file left
    outside = tmp_path.parent / f"{tmp_path.name}-outside.md"
    assert main(["validate", "--fast", "--only", "fa2-io-bound", "--out", str(tmp_path),
                 "--write", str(outside)]) == 2
    assert not outside.exists()
    assert main(["validate", "--fast", "--only", "fa2-io-bound", "--write", "/tmp/validation.md"]) == 2
    assert "inside" in capsys.readouterr().err


def test_a_perturbed_einspace_value_fails_its_claimed_row(monkeypatch, capsys):
    import experiments.reproductions.fusemax_layers as layers

    real = layers.paper_model

    def slower_fusemax(design, *args, **kwargs):
        res = real(design, *args, **kwargs)
        return dataclasses.replace(res, cycles=res.cycles * 1.05) if design == "fusemax" else res

    monkeypatch.setattr(layers, "paper_model", slower_fusemax)
    with pytest.raises(SystemExit) as exit_:
        main(["validate", "--fast", "--only", "fusemax", "--format", "json"])
    assert exit_.value.code == 1
    out = json.loads(capsys.readouterr().out)
    failed = [r for r in out["rows"] if r["claimed"] and not r["passed"]]
    assert not out["ok"] and failed and all("attention speedup vs FLAT" in r["case"] for r in failed)


def test_a_missing_reference_file_is_skipped_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("EINSPACE_REFERENCES", str(tmp_path))
    v = run(fast=True, only=("aim",))
    assert v.rows == [] and "aim_gemv.json" in v.skipped["aim"] and v.ok


def test_the_ddr4_mapping_is_ramulators_robaracoch_layout():
    from experiments.validation.ramulator import MAPPING, same_layout
    from sim.dram import load_standard

    std = load_standard("DDR4-3200")
    assert same_layout(std)
    assert MAPPING != "RoBaRaCoCh"  # einspace's RoBaRaCoCh keeps the bank group above the bank


def test_the_command_exits_1_when_a_claimed_row_fails(tmp_path):
    """The installed command, end to end: a claimed row made to fail (a reference file whose AiM
    cycles are 10 % off) exits with code 1."""
    from experiments.validation.references import load

    ref = load("aim_gemv.json")
    if ref is None:
        pytest.skip("AiM reference figures not present")
    ref["results"] = ref["results"][:1]
    ref["results"][0]["cycles"] = int(ref["results"][0]["cycles"] * 1.1)
    (tmp_path / "aim_gemv.json").write_text(json.dumps(ref))
    code = "import sys; from experiments.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "validate", "--only", "aim"], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "EINSPACE_REFERENCES": str(tmp_path)})
    assert done.returncode == 1, done.stderr
    assert "FAIL" in done.stdout and "a claimed row fails" in done.stdout


def test_references_are_registered_once():
    assert len(set(REFERENCES.values())) == len(REFERENCES)
