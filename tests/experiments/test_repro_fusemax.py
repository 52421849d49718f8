"""The FuseMax reproduction: the in-process entry point on a reduced grid (files written, averages
arithmetic), and the reproduction as an experiment (`einspace sweep` of a reduced copy of
experiments/fusemax.yaml, then `summarize` over the run's points and per-Einsum rows) gives the
same tables and summaries as the in-process one (`einspace attention --reproduce`)."""
import csv
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.cli import main
from experiments.reproductions.fusemax import MODES, flat_figures, grid_of, load_grid, reproduce
from experiments.schema import load

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "experiments" / "fusemax.yaml"
PLOTS = ("speedup_vs_seq_len", "utilization", "traffic_vs_buffer", "fa2_bound_ratio_vs_buffer")

GRID = {"workloads": ["fusemax-t5"], "seq_lens": [1024, 4096], "designs": ["flat", "fusemax"],
        "batch": 1, "buffer_kib_sweep": [4096, 16384], "buffer_sweep_seq_len": 4096}


def test_aa_reproduce_reduced_grid_paper_and_cycle(tmp_path):
    for mode in ("paper", "cycle"):
        summ = reproduce(GRID, tmp_path, mode)
        with open(tmp_path / f"results_{mode}.csv") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 4
        sp = [float(f["cycles"]) / float(m["cycles"])
              for f, m in zip(rows[0::2], rows[1::2])]
        assert summ["vs_flat"]["attention"]["speedup"] == sum(sp) / 2
        with open(tmp_path / f"summary_{mode}.yaml") as fh:
            assert yaml.safe_load(fh)["mode"] == mode
        for png in PLOTS:
            assert (tmp_path / f"plots_{mode}" / f"{png}.png").stat().st_size > 0


def test_the_experiment_is_the_papers_grid():
    exp, _ = load(EXPERIMENT)
    assert exp.reproduce == "fusemax" and exp.families() == ["attention"]
    assert exp.workloads.layers == 1 and exp.workloads.lm_head == "none"
    assert load_grid(EXPERIMENT) == {
        "workloads": ["fusemax-bert", "fusemax-trxl", "fusemax-t5", "fusemax-xlm"], "batch": 64,
        "seq_lens": [1024, 4096, 16384, 65536, 262144, 1048576], "designs": ["unfused", "flat", "fusemax"],
        "buffer_kib_sweep": [1024, 4096, 16384], "buffer_sweep_seq_len": 65536}
    # paper mode on FuseMax's arrays; cycle mode on each design's iso-area preset (FLAT: 32 MiB, 4 ports)
    by_mode = {}
    for _, arch in exp.arches():
        by_mode.setdefault(arch.fixed["mode"], []).append(arch)
    assert [a.axes()["design"] for a in by_mode["paper"]] == [["unfused", "flat", "fusemax"]]
    flat = [a for a in by_mode["cycle"] if a.axes()["design"] == ["flat"]]
    assert flat[0].fixed == {"mode": "cycle", "buffer_kib": 32768, "buffer_bytes_per_cycle": 2048}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The reproduction YAML on two workloads at two sequence lengths, through `einspace sweep`;
    returns the run's reproduction folder and the grid the in-process path runs."""
    tmp = tmp_path_factory.mktemp("fusemax")
    doc = yaml.safe_load(EXPERIMENT.read_text())
    doc["workloads"].update(models=["fusemax-t5", "fusemax-bert"], seq_len=[1024, 4096], batch=[4])
    path = tmp / "fusemax_small.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["sweep", str(path), "--runs-dir", str(tmp / "runs"), "--run", "small", "--quiet"]) == 0
    return tmp / "runs" / "small" / "reproduction", grid_of(load(path)[0])


@pytest.mark.parametrize("mode", MODES)
def test_sweep_reproduction_equals_the_in_process_one(swept, mode, tmp_path):
    out, grid = swept
    assert grid["buffer_sweep_seq_len"] == 4096 and grid["designs"] == ["unfused", "flat", "fusemax"]
    want = reproduce(grid, tmp_path, mode)
    summary = json.loads((out / "summary.json").read_text())
    expected = flat_figures(mode, want)
    assert len(expected) == 16  # vs flat and vs unfused × attention, end to end × 4 statistics
    for key, value in expected.items():
        assert summary[key] == pytest.approx(value, rel=1e-9), key
    assert yaml.safe_load((out / f"summary_{mode}.yaml").read_text())["mode"] == mode
    got, ref = pd.read_csv(out / f"results_{mode}.csv"), pd.read_csv(tmp_path / f"results_{mode}.csv")
    assert list(got.columns) == list(ref.columns) and len(got) == 2 * 2 * 3
    assert got[["model", "seq_len", "design"]].values.tolist() == ref[["model", "seq_len", "design"]].values.tolist()
    for col in ref.columns[3:]:
        assert got[col].to_numpy() == pytest.approx(ref[col].to_numpy(), rel=1e-9), col
    for png in PLOTS:
        assert (out / f"plots_{mode}" / f"{png}.png").stat().st_size > 0


def test_cli_reproduce_reads_the_experiment(swept, tmp_path):
    from click.testing import CliRunner

    from experiments.cli.attention import attention

    small = swept[0].parents[2] / "fusemax_small.yaml"
    res = CliRunner().invoke(attention, ["--reproduce", str(tmp_path), "--mode", "paper", "--grid", str(small)])
    assert res.exit_code == 0, res.output
    summary = json.loads((swept[0] / "summary.json").read_text())
    assert f"{summary['paper.vs_flat.attention.speedup']:.2f}x" in res.output
    assert (tmp_path / "results_paper.csv").exists() and (tmp_path / "plots_paper" / "utilization.png").exists()
