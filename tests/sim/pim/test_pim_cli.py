"""`einspace pim` as a user runs it: JSON keys, and user mistakes exit 2 with one line on stderr."""
import json
import subprocess
import sys

import pytest

from sim.pim.baselines import kernel_ids


def _run(*args):
    return subprocess.run([sys.executable, "-m", "experiments.cli", "pim", *args],
                          capture_output=True, text=True, timeout=120)


def test_json_output_has_both_baselines():
    proc = _run("--model", "gpt2", "--tokens", "4", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["model"] for r in rows] == ["gpt2"]
    keys = set(rows[0])
    for dev in ("gpu", "cpu"):
        for kind in ("roofline", "eager"):
            assert {f"speedup_vs_{dev}_{kind}", f"energy_eff_vs_{dev}_{kind}",
                    f"{dev}_{kind}_latency_ms"} <= keys
    assert {"latency_ms_per_token", "energy_j_per_token", "pim_mac_ms", "asic_ms",
            "data_movement_ms", "refresh_ms", "tokens"} <= keys
    r = rows[0]
    assert r["gpu_eager_latency_ms"] >= r["gpu_roofline_latency_ms"]


@pytest.mark.parametrize("args", [("--model", "no-such-model", "--tokens", "4"),
                                  ("--model", "gpt2", "--tokens", "0")])
def test_user_mistakes_exit_2_with_one_line(args):
    proc = _run(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr


def test_eager_kernel_rule_on_gpt2_layer():
    names = ["L0.N1.MU", "L0.N1.XC", "L0.N1.VAR", "L0.N1.XN", "L0.N1.XG", "L0.N1.Y",
             "L0.Q_mm", "L0.Q", "L0.QK", "L0.X1"]
    assert kernel_ids(names) == ["L0.N1.LN"] * 6 + ["L0.Q_mm", "L0.Q_mm", "L0.QK", "L0.X1"]


def test_pim_family_is_registered_and_the_yaml_validates():
    from experiments import schema
    from experiments.families import get_family
    from experiments.schema import Workloads
    from experiments.space import Point

    exp, _ = schema.load("experiments/pim_gpt.yaml")
    assert exp.family == "pim" and exp.workloads.seq_len == [1024]
    w = Workloads(models=["gpt2"], phases=["decode"], seq_len=[32], layers=1).combos()[0]
    ev = get_family("pim").evaluate(Point("pim", "pim-gpt", w, {"channels": 8}))
    assert set(get_family("pim").metrics) <= set(ev.metrics)
    assert abs(ev.rows["latency_s"].sum() - ev.metrics["latency_s"]) < 1e-12
    # the numbers of the family before it moved onto the contract (legacy evaluate, same point)
    assert ev.metrics["latency_s"] == pytest.approx(4.3139e-05, rel=1e-12)
    assert ev.metrics["energy_j"] == pytest.approx(0.000868991556, rel=1e-12)
    assert ev.metrics["speedup_vs_gpu_roofline"] == pytest.approx(6.644217384501262, rel=1e-12)
    assert ev.metrics["speedup_vs_gpu_eager"] == pytest.approx(8.603901487053479, rel=1e-12)
