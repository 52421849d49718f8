"""Run names are slugs, outputs stay inside their roots, and a run folder has one writer."""
from __future__ import annotations

import os
import textwrap

import pytest

from experiments.cli import main
from experiments.paths import check_slug, inside, slugify
from experiments.store import RunStore
from workloads.errors import SpecError

EXP = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [decode], seq_len: [32], layers: 1}
    family: roofline
    sweep: {pes: [64, 128]}
    objectives: {latency_s: min}
""")


@pytest.mark.parametrize("name", ["../x", "/tmp/x", ".", "..", "a/b", "", "-x", "a..b", "x" * 101, "a b"])
def test_bad_run_names_are_refused(name):
    with pytest.raises(SpecError, match="not a valid run name"):
        check_slug(name, "--run")


def test_good_names_and_slugify():
    assert check_slug("demo-2026.1_a", "--run") == "demo-2026.1_a"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("my exp (v2)") == "my-exp-v2"


def test_a_symlink_out_of_the_root_is_refused(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "runs" / "out")
    with pytest.raises(SpecError, match="resolves outside"):
        inside(tmp_path / "runs", "out", "--run")


@pytest.mark.parametrize("args", [["--run", "../escape"], ["--run", "."], ["--run", "/tmp/abs"]])
def test_sweep_never_writes_outside_the_runs_folder(tmp_path, capsys, args):
    f = tmp_path / "e.yaml"
    f.write_text(EXP)
    before = set(tmp_path.rglob("*"))
    assert main(["sweep", str(f), "--runs-dir", str(tmp_path / "runs"), "--quiet", *args]) == 2
    assert "not a valid run name" in capsys.readouterr().err
    assert set(tmp_path.rglob("*")) == before


def test_a_yaml_name_with_a_path_is_refused(tmp_path, capsys):
    f = tmp_path / "e.yaml"
    f.write_text("name: ../../x\n" + EXP)
    assert main(["sweep", str(f), "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 2
    assert "name: '../../x' is not a valid run name" in capsys.readouterr().err


def test_a_second_writer_is_refused_and_a_refused_run_leaves_nothing(tmp_path, capsys):
    f = tmp_path / "e.yaml"
    f.write_text(EXP)
    runs = tmp_path / "runs"
    with RunStore(runs / "r1").lock():
        assert main(["sweep", str(f), "--runs-dir", str(runs), "--run", "r1", "--quiet"]) == 2
        assert f"pid {os.getpid()}" in capsys.readouterr().err
    assert not (runs / "r1").exists()
    assert main(["sweep", str(f), "--runs-dir", str(runs), "--run", "r1", "--quiet"]) == 0
    assert sorted(p.name for p in (runs / "r1").iterdir()) == [".lock", "experiment.yaml", "manifest.json", "points"]


def test_a_damaged_point_file_is_named_and_repair_moves_it(tmp_path, capsys):
    f = tmp_path / "e.yaml"
    f.write_text(EXP)
    runs = tmp_path / "runs"
    assert main(["sweep", str(f), "--runs-dir", str(runs), "--run", "r", "--quiet"]) == 0
    victim = sorted((runs / "r" / "points").iterdir())[0]
    victim.write_bytes(b"PAR1 garbage")
    capsys.readouterr()
    assert main(["results", "r", "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and victim.name in err and "--repair" in err
    assert main(["results", "r", "--runs-dir", str(runs), "--repair"]) == 0
    assert (runs / "r" / "damaged" / victim.name).exists()
    assert main(["sweep", str(f), "--runs-dir", str(runs), "--resume", "r", "--quiet"]) == 0
    assert "1 points computed, 1 reused" in capsys.readouterr().out


def test_a_damaged_manifest_is_one_line(tmp_path, capsys):
    f = tmp_path / "e.yaml"
    f.write_text(EXP)
    runs = tmp_path / "runs"
    assert main(["sweep", str(f), "--runs-dir", str(runs), "--run", "r", "--quiet"]) == 0
    (runs / "r" / "manifest.json").write_text("{not json")
    capsys.readouterr()
    assert main(["results", "r", "--runs-dir", str(runs)]) == 2
    assert "manifest.json: damaged (not JSON)" in capsys.readouterr().err
