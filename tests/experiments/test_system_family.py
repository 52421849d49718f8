"""The `system` family (one phase of a heterogeneous system), the GPU baselines, the figures."""
import json

import pytest
from PIL import Image

from experiments.cli import main
from experiments.families import cascade_of, get_family
from experiments.schema import parse
from experiments.space import Point
from experiments.system.evaluate import evaluate_phase
from experiments.system.figures import energy_parts, unit_color, write_figures
from experiments.system.request import Request, run_request
from sim.roofline import PRESETS
from sim.system import load_system
from workloads import SpecError


def test_h100_preset_from_the_datasheet_and_a100_untouched():
    h100, a100 = PRESETS["h100-sxm"], PRESETS["a100-40gb"]
    assert h100.peak_macs_per_s == 989.4e12 / 2 and h100.dram_bandwidth_bytes_per_s == 3.35e12
    assert h100.static_power_w == 700.0 and h100.area_mm2 == 814.0 and h100.buffer_bytes == 50 * 2**20
    assert a100.peak_macs_per_s == 312e12 / 2 and a100.static_power_w == 400.0
    assert load_system("gpu-a100").unit("gpu").memory_bytes == 40 * 2**30
    assert load_system("gpu-h100").unit("gpu").memory_bytes == 80 * 2**30


@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_family_point_is_the_scheduled_phase_with_gpu_ratios(phase):
    req = Request("gpt2", 32, 4, layers=1)
    workload = req.workload(phase, 32 if phase == "decode" else None)
    fam = get_family("system")
    result = fam.result(Point("system", "placement", workload, {"system": "hybrid"}))
    result.check_covers(cascade_of(workload))
    same = evaluate_phase(load_system("hybrid"), workload).result
    assert result.latency_s == same.latency_s and result.energy_j == pytest.approx(same.energy_j, rel=1e-12)
    gpu = evaluate_phase(load_system("gpu-a100"), workload).result
    d = result.design
    assert d["speedup_vs_gpu"] == pytest.approx(gpu.latency_s / result.latency_s, rel=1e-12)
    assert d["energy_ratio_vs_gpu"] == pytest.approx(gpu.energy_j / result.energy_j, rel=1e-12)
    assert d["area_mm2"] > 0 and {"util_pim", "util_bitmod", "link_bytes_pim--host"} <= set(d)
    if phase == "prefill":  # the prefill point is the request's TTFT
        assert result.latency_s == run_request(load_system("hybrid"), req).ttft_s


def test_family_search_and_baseline_none():
    w = Request("gpt2", 16, 2, layers=1).workload("decode", 16)
    fam = get_family("system")
    auto = fam.result(Point("system", "placement", w, {"system": "hybrid"}))
    found = fam.result(Point("system", "placement", w, {"system": "hybrid", "placement": "search",
                                                          "baseline": "none"}))
    assert found.latency_s <= auto.latency_s * (1 + 1e-12) and "speedup_vs_gpu" not in found.design


def test_family_refuses_bad_params_in_one_line(capsys):
    code = main(["run", "--family", "system", "--model", "gpt2", "-p", "system=no-such-system"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no-such-system" in err


def test_heterogeneous_experiment_validates():
    import yaml
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "experiments" / "heterogeneous.yaml"
    exp = parse(yaml.safe_load(path.read_text()), str(path))
    assert {a.family for a in exp.architectures} == {"system"}


def test_cli_baseline_ratios_and_figures(tmp_path, capsys):
    args = ["system", "--system", "hybrid", "--model", "gpt2", "--prompt", "16", "--generate", "3", "--layers", "1"]
    assert main([*args, "--format", "json", "--baseline", "gpu-h100", "--figures", str(tmp_path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    base = run_request(load_system("gpu-h100"), Request("gpt2", 16, 3, layers=1))
    b = doc["baseline"]
    assert b["system"] == "gpu-h100"
    assert b["speedup"] == pytest.approx(base.latency_s / doc["summary"]["latency_s"], rel=1e-9)
    assert b["energy_ratio"] == pytest.approx(base.energy_j / doc["summary"]["energy_j"], rel=1e-9)
    for name in ("gantt_decode.png", "energy_breakdown.png"):
        with Image.open(tmp_path / name) as img:
            assert img.size[0] > 400
    assert main([*args, "--format", "json", "--baseline", "none"]) == 0
    assert json.loads(capsys.readouterr().out)["baseline"] is None
    assert main(args) == 0
    assert "vs gpu-a100: speedup" in capsys.readouterr().out


def test_energy_breakdown_adds_up_and_colours_are_stable(tmp_path):
    res = run_request(load_system("pim-gpt"), Request("gpt2", 16, 3, layers=1))
    parts = energy_parts(res)
    assert sum(p["prefill"] + p["decode"] for p in parts.values()) == pytest.approx(res.energy_j, rel=1e-9)
    assert unit_color("pim") == unit_color("pim") and unit_color("pim") != unit_color("host")
    assert all(p.is_file() for p in write_figures(res, tmp_path))
