"""The PIM-GPT reproduction (`experiments.reproductions.pim_gpt`): a multi-token decode run as one
continuous stream on the analytic path equals the fast engine on the concatenated stream, and the
reproduction as an experiment (`einspace sweep experiments/pim_gpt.yaml`, then `summarize` over the
run's points) gives the table `einspace pim --reproduce` computes in process."""
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.cli import main
from experiments.reproductions.pim_gpt import BREAKDOWN, decode_runs, headline, reproduce
from experiments.schema import load
from mappers.pim import map_decode
from sim.pim.engine import breakdown_of
from workloads import lower


def _timings(run):
    return [(s.name, s.kind, s.start_cycle, s.end_cycle, s.refresh_cycles, s.transfer_cycles)
            for s in run.steps]


def _counts(runs) -> dict[str, int]:
    total: dict[str, int] = {}
    for r in runs:
        for k, v in r.counts.items():
            total[k] = total.get(k, 0) + v
    return total


def test_compact_decode_totals_equal_fast_path_on_concatenated_stream():
    # detail=False: ASIC stretches summed, steps memoized; totals must not move
    plan = map_decode(lower("gpt2", "decode", seq_len=16))
    tokens = 5
    ana = list(decode_runs(plan, tokens, "analytic", detail=False))
    (fast,) = decode_runs(plan, tokens, "fast")
    assert all(r.steps == [] for r in ana)
    assert sum(r.cycles for r in ana) == fast.cycles
    kinds = breakdown_of(fast.steps)
    assert {k: sum(r.breakdown[k] for r in ana) for k in kinds} == kinds
    assert _counts(ana) == fast.counts


def test_continuous_decode_matches_fast_path_on_concatenated_stream():
    plan = map_decode(lower("gpt2", "decode", seq_len=16))
    tokens = 6
    ana = list(decode_runs(plan, tokens, "analytic"))
    (fast,) = decode_runs(plan, tokens, "fast")
    assert sum(r.cycles for r in ana) == fast.cycles
    assert _timings(fast) == [t for r in ana for t in _timings(r)]
    assert _counts(ana) == fast.counts


ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "experiments" / "pim_gpt.yaml"
SMALL, TOKENS = ("gpt2", "gpt3-760m"), 12


def test_the_experiment_is_the_papers_grid():
    exp, _ = load(EXPERIMENT)
    assert exp.reproduce == "pim_gpt" and exp.family == "pim" and exp.workloads.phases == ["decode"]
    assert exp.workloads.models == ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-125m", "gpt3-350m",
                                    "gpt3-760m", "gpt3-1.3b"]
    assert exp.workloads.seq_len == [1024] and exp.fixed["tokens"] == 1024 and exp.workloads.layers is None


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The reproduction YAML on two models decoding 12 tokens, through `einspace sweep`."""
    tmp = tmp_path_factory.mktemp("pim_gpt")
    doc = yaml.safe_load(EXPERIMENT.read_text())
    doc["workloads"].update(models=list(SMALL), seq_len=[TOKENS])
    doc["fixed"]["tokens"] = TOKENS
    path = tmp / "pim_gpt_small.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["sweep", str(path), "--runs-dir", str(tmp / "runs"), "--run", "small", "--quiet"]) == 0
    return tmp / "runs" / "small" / "reproduction"


def test_sweep_reproduction_equals_the_in_process_one(swept):
    want = [reproduce(m, TOKENS) for m in SMALL]
    summary = json.loads((swept / "summary.json").read_text())
    for key, value in headline(want).items():
        assert summary[key] == pytest.approx(value, rel=1e-12), key
    got = pd.read_csv(swept / "pim_gpt.csv")
    assert list(got["model"]) == list(SMALL) and list(got.columns) == list(want[0])
    for col in ("latency_ms_per_token", "energy_j_per_token", "pim_mac_ms", "refresh_ms", "area_mm2",
                "speedup_vs_gpu_eager", "speedup_vs_cpu_roofline", "energy_eff_vs_gpu_roofline"):
        assert got[col].to_numpy() == pytest.approx([w[col] for w in want], rel=5e-6), col  # CSV: 6 digits
    assert (swept / "pim_gpt.png").stat().st_size > 0


def test_the_family_path_equals_the_engines_on_a_short_decode():
    # reproduce() runs map/simulate with tokens = T; the fast engine runs the concatenated stream
    ana, fast = reproduce("gpt2", 6), reproduce("gpt2", 6, engine="fast")
    for key in ("latency_ms_per_token", "energy_j_per_token", *BREAKDOWN):
        assert ana[key] == pytest.approx(fast[key], rel=1e-12), key
