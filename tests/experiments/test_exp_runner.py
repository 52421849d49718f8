"""The runner: a 200-point sweep on 2 workers, determinism, SIGKILL + resume equals uninterrupted."""
from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from experiments.cli import main
from experiments.runner import load_results, run_sweep
from experiments.store import RunStore

SWEEP_200 = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [decode], seq_len: [32], layers: 1, lm_head: none}
    family: roofline
    fixed: {node_nm: 28}
    sweep:
      pes: {logrange: [64, 1024, 5]}
      clock_mhz: [250, 500, 750, 1000]
      buffer_mib: {logrange: [0.0625, 1, 5]}
      dram_bandwidth_gb_per_s: [25.6, 102.4]
    objectives: {latency_s: min, energy_j: min, area_mm2: min}
    constraints: {area_mm2: {max: 20}}
    """)


@pytest.fixture(scope="module")
def exp_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("exp")
    p = d / "sweep200.yaml"
    p.write_text(SWEEP_200)
    return p


@pytest.fixture(scope="module")
def reference(exp_file, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    info = run_sweep(exp_file, jobs=2, run="ref", runs_dir=runs, progress=False)
    return info, runs


def test_200_points_on_two_workers(reference):
    info, runs = reference
    assert info.planned == 200 and info.computed == 200 and info.skipped == 0
    points, exp, store = load_results("ref", runs)
    assert len(points) == 200 and points["point_id"].is_unique
    assert list(points["point_id"]) == sorted(points["point_id"])
    einsums = store.einsums()
    assert len(einsums) == 200 * einsums.groupby("point_id").size().iloc[0]
    sums = einsums.groupby("point_id")["latency_s"].sum()
    assert (sums.loc[points["point_id"]].to_numpy() == pytest.approx(points["latency_s"].to_numpy()))
    assert points["pareto"].any() and (points.loc[points["pareto"], "area_mm2"] <= 20).all()
    manifest = store.manifest()
    assert manifest["sessions"][0]["jobs"] == 2 and manifest["sessions"][0]["computed"] == 200


def test_same_file_same_results(reference, exp_file, tmp_path):
    _, runs = reference
    run_sweep(exp_file, jobs=1, run="again", runs_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(RunStore(runs / "ref").points(), RunStore(tmp_path / "again").points())
    pd.testing.assert_frame_equal(RunStore(runs / "ref").einsums(), RunStore(tmp_path / "again").einsums())


def test_sigkill_midway_then_resume_equals_uninterrupted(reference, exp_file, tmp_path, kill_sweep):
    _, runs = reference
    stored = kill_sweep(exp_file, tmp_path, "k", 15)
    assert 15 <= stored < 200, f"kill landed at {stored} stored points"
    rc = main(["sweep", str(exp_file), "--resume", "k", "--runs-dir", str(tmp_path), "--quiet"])
    assert rc == 0
    manifest = RunStore(tmp_path / "k").manifest()
    assert manifest["sessions"][-1]["computed"] == 200 - stored
    assert manifest["sessions"][-1]["reused"] == stored
    pd.testing.assert_frame_equal(RunStore(runs / "ref").points(), RunStore(tmp_path / "k").points())
    pd.testing.assert_frame_equal(RunStore(runs / "ref").einsums(), RunStore(tmp_path / "k").einsums())


def test_sigkill_with_workers_leaves_no_orphan_and_resume_equals_uninterrupted(reference, exp_file, tmp_path,
                                                                                kill_sweep):
    _, runs = reference
    stored = kill_sweep(exp_file, tmp_path, "w", 15, jobs=2)
    assert 15 <= stored < 200, f"kill landed at {stored} stored points"
    assert main(["sweep", str(exp_file), "--resume", "w", "--runs-dir", str(tmp_path), "--quiet", "--jobs", "2"]) == 0
    pd.testing.assert_frame_equal(RunStore(runs / "ref").points(), RunStore(tmp_path / "w").points())


def test_resume_rejects_a_changed_file_and_reuse_of_a_name(reference, exp_file, tmp_path, capsys):
    _, runs = reference
    changed = tmp_path / "changed.yaml"
    changed.write_text(SWEEP_200.replace("[250, 500, 750, 1000]", "[250, 500]"))
    assert main(["sweep", str(changed), "--resume", "ref", "--runs-dir", str(runs), "--quiet"]) == 2
    assert "differs from the file run 'ref' started with" in capsys.readouterr().err
    assert main(["sweep", str(exp_file), "--run", "ref", "--runs-dir", str(runs), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_random_search_is_seeded(exp_file, tmp_path):
    text = SWEEP_200 + "search: {method: random, budget: 12, seed: 3}\n"
    f = tmp_path / "rand.yaml"
    f.write_text(text)
    a = run_sweep(f, run="a", runs_dir=tmp_path, progress=False)
    b = run_sweep(f, run="b", runs_dir=tmp_path, progress=False)
    assert a.computed == b.computed == 12
    pd.testing.assert_frame_equal(RunStore(tmp_path / "a").points(), RunStore(tmp_path / "b").points())


def test_results_cli_formats(reference, tmp_path, capsys):
    _, runs = reference
    assert main(["results", "ref", "--runs-dir", str(runs), "--query", "pareto", "--format", "csv",
                 "--columns", "point_id,latency_s,area_mm2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "point_id,latency_s,area_mm2" and len(lines) > 1
    out = tmp_path / "r.parquet"
    assert main(["results", "ref", "--runs-dir", str(runs), "--format", "parquet", "-o", str(out)]) == 0
    assert len(pd.read_parquet(out)) == 200
    assert main(["results", "ref", "--runs-dir", str(runs), "--query", "nonsense >"]) == 2
    assert main(["results", "nope", "--runs-dir", str(runs)]) == 2
    assert "not found" in capsys.readouterr().err
