"""The BitMoD reproduction as an experiment: `einspace sweep` of the reproduction YAML, then
`summarize` over the run's points, gives the same task table and headline as the in-process
reproduction (`reproduction(mode)`, the grid `einspace bitserial --reproduce` runs)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.cli import main
from experiments.reproductions.bitmod import headline, reproduction
from experiments.schema import load
from sim.bitserial.presets import ACCELS, MODELS, SEQ_LEN, TASKS

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "experiments" / "bitmod.yaml"
SMALL = ("opt-1.3b", "llama-2-7b")


def test_the_experiment_is_the_papers_grid():
    exp, _ = load(EXPERIMENT)
    assert exp.reproduce == "bitmod" and exp.family == "bitserial"
    assert tuple(exp.workloads.models) == MODELS and exp.workloads.seq_len == [SEQ_LEN]
    assert exp.workloads.layers is None and exp.workloads.batch == [1]
    assert set(exp.workloads.phases) == {"prefill", "decode"}
    assert tuple(exp.sweep["accel"]) == ACCELS and tuple(exp.sweep["task"]) == TASKS
    assert set(exp.sweep["mode"]) == {"paper", "cycle"}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The reproduction YAML on two models, one layer each, through `einspace sweep`."""
    tmp = tmp_path_factory.mktemp("bitmod")
    doc = yaml.safe_load(EXPERIMENT.read_text())
    doc["workloads"].update(models=list(SMALL), layers=1)
    path = tmp / "bitmod_small.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["sweep", str(path), "--runs-dir", str(tmp / "runs"), "--run", "small", "--quiet"]) == 0
    return tmp / "runs" / "small" / "reproduction"


@pytest.mark.parametrize("mode", ["paper", "cycle"])
def test_sweep_reproduction_equals_the_in_process_one(swept, mode):
    want = reproduction(mode, SMALL, layers=1)
    summary = json.loads((swept / "summary.json").read_text())
    for key, value in headline(want).items():
        assert summary[f"{mode}.{key}"] == pytest.approx(value, rel=1e-9), key
    got = pd.read_csv(swept / f"bitmod_{mode}.csv")
    assert list(zip(got["model"], got["task"], got["accel"])) == list(zip(want["model"], want["task"], want["accel"]))
    for col in ("cycles", "dram_bytes", "energy_dram_pj", "energy_total_pj"):
        assert got[col].to_numpy() == pytest.approx(want[col].to_numpy(), rel=5e-6)  # CSV: 6 significant digits
    assert (swept / f"bitmod_{mode}.png").stat().st_size > 0
