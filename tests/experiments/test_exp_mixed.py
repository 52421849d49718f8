"""Mixed experiments: several families in one file, crossed with shared workloads; determinism,
SIGKILL + resume, Pareto across families against brute force, families against the models' own
APIs, one-line schema errors with the `architectures[i]` key path."""
from __future__ import annotations

import math
import textwrap
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from experiments.runner import load_results, run_sweep
from experiments.space import Point
from experiments.store import RunStore

MIXED = textwrap.dedent("""\
    name: mixed-test
    workloads: {models: [gpt2], phases: [decode, prefill], seq_len: [128], layers: 1}
    architectures:
      - family: roofline
        fixed: {node_nm: 28}
        sweep: {pes: [64, 256, 1024, 4096], buffer_mib: [0.5, 2, 8], dram_bandwidth_gb_per_s: [25.6, 256]}
      - family: pim
        sweep: {channels: [4, 8]}
      - family: bitserial
        sweep: {accel: [fp16, bitmod-lossy], mode: [paper, cycle]}
      - family: attention
        fixed: {array_rows: 64, array_cols: 64, buffer_kib: 1024}
        sweep: {design: [flat, fusemax]}
    objectives: {latency_s: min, energy_j: min}
""")
N_POINTS = 24 * 2 + 2 + 4 * 2 + 2 * 2  # roofline, bitserial, attention × 2 phases; pim decode


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    path = root / "mixed.yaml"
    path.write_text(MIXED)
    run_sweep(path, jobs=2, run="ref", runs_dir=root / "runs", progress=False)
    return path, root / "runs"


def test_mixed_sweep_runs_every_family_and_is_deterministic(mixed, tmp_path):
    path, runs = mixed
    points = RunStore(runs / "ref").points()
    assert len(points) == N_POINTS
    assert sorted(points["family"].unique()) == ["attention", "bitserial", "pim", "roofline"]
    assert set(points.loc[points["family"] == "pim", "phase"]) == {"decode"}
    assert set(points.loc[points["family"] == "attention", "phase"]) == {"decode", "prefill"}
    run_sweep(path, jobs=1, run="again", runs_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(points, RunStore(tmp_path / "again").points())
    pd.testing.assert_frame_equal(RunStore(runs / "ref").einsums(), RunStore(tmp_path / "again").einsums())


def test_sigkill_then_resume_recomputes_nothing_stored(mixed, tmp_path, kill_sweep):
    path, runs = mixed
    stored = kill_sweep(path, tmp_path, "k", 8)
    assert 8 <= stored < N_POINTS, f"kill landed at {stored} stored points"
    assert main(["sweep", str(path), "--resume", "k", "--runs-dir", str(tmp_path), "--quiet"]) == 0
    session = RunStore(tmp_path / "k").manifest()["sessions"][-1]
    assert (session["computed"], session["reused"]) == (N_POINTS - stored, stored)
    pd.testing.assert_frame_equal(RunStore(runs / "ref").points(), RunStore(tmp_path / "k").points())
    pd.testing.assert_frame_equal(RunStore(runs / "ref").einsums(), RunStore(tmp_path / "k").einsums())


def _brute_front(values: np.ndarray) -> np.ndarray:
    keep = ~np.isnan(values).any(axis=1)
    for i in range(len(values)):
        for j in range(len(values)):
            if keep[i] and i != j and not np.isnan(values[j]).any() and np.all(values[j] <= values[i]) \
                    and np.any(values[j] < values[i]):
                keep[i] = False
    return keep


def test_pareto_across_families_equals_brute_force(mixed):
    _, runs = mixed
    points, _, _ = load_results("ref", runs)
    for phase, sub in points.groupby("phase"):
        expect = _brute_front(sub[["latency_s", "energy_j"]].to_numpy(float))
        assert (sub["pareto"].to_numpy() == expect).all(), phase
        assert sub["family"].nunique() >= 3


def _workload(model: str, phase: str, seq_len: int, layers: int) -> dict:
    return {"model": model, "phase": phase, "batch": 1, "seq_len": seq_len, "kv_len": None, "layers": layers,
            "attention": "3pass", "block": 64, "lm_head": "all", "weight_dtype": "fp16",
            "activation_dtype": "fp16", "kv_dtype": "fp16"}


@pytest.mark.parametrize("accel", ["fp16", "ant", "bitmod-lossy"])
@pytest.mark.parametrize("mode", ["paper", "cycle"])
@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_bitserial_equals_mappers_bitserial(accel, mode, phase):
    from experiments.families import get_family
    from experiments.reproductions.bitmod import run_phase

    w = _workload("opt-1.3b", phase, 64, 1)
    ev = get_family("bitserial").evaluate(Point("bitserial", "output-stationary", w, {"accel": accel, "mode": mode}))
    ref = run_phase("opt-1.3b", accel, "generative", phase, mode, seq_len=64, layers=1)
    modeled = ev.rows[ev.rows["modeled"]]
    assert list(modeled["einsum"]) == list(ref["name"])
    assert list(modeled["cycles"]) == list(ref["cycles"])
    energy_pj = ref["energy_compute_pj"] + ref["energy_sram_pj"] + ref["energy_dram_pj"]
    assert ev.metrics["latency_s"] == pytest.approx(ref["cycles"].sum() / 1e9, rel=1e-12)
    assert ev.metrics["energy_j"] == pytest.approx(energy_pj.sum() * 1e-12, rel=1e-12)
    rows, cols = {"fp16": (64, 12), "ant": (64, 16), "bitmod-lossy": (64, 16)}[accel]
    pe_um2 = {"fp16": 1968.7, "ant": 1318.6, "bitmod-lossy": 1507.7}[accel]  # docs/bitserial.md PE table
    buffers_mm2 = 2 * 512 * 1024 * 8 * 0.127 / 0.5 * 1e-6  # 28 nm bitcell 0.127 µm², 50 % array efficiency
    assert ev.metrics["area_mm2"] == pytest.approx(rows * cols * pe_um2 * 1e-6 + buffers_mm2, rel=1e-9)


@pytest.mark.parametrize("mode,design", [("cycle", "unfused"), ("cycle", "fusemax"), ("paper", "flat"),
                                         ("paper", "fusemax")])
def test_attention_equals_sim_attention_array(mode, design):
    from experiments.families import get_family
    from sim.attention_array.arch import FUSEMAX
    from sim.attention_array.area import array_area_mm2
    from experiments.reproductions.fusemax_layers import paper_model, simulate_model

    w = _workload("bert-base", "prefill", 256, 3)
    params = {"design": design, "mode": mode, "array_rows": 64, "array_cols": 64, "buffer_kib": 2048}
    ev = get_family("attention").evaluate(Point("attention", "array", w, params))
    arch = replace(FUSEMAX, rows_2d=64, cols_2d=64, buffer_bytes=2048 * 1024)
    ref = (paper_model if mode == "paper" else simulate_model)(design, "bert-base", 256, batch=1, arch=arch)
    assert ev.metrics["latency_s"] == pytest.approx(3 * ref.end_to_end_cycles / 940e6, rel=1e-12)
    assert ev.metrics["energy_j"] == pytest.approx(3 * ref.end_to_end_energy_pj * 1e-12, rel=1e-12)
    area = array_area_mm2(arch, design)  # sim.attention_array.area; by hand in test_aa_area.py
    assert math.isfinite(ev.metrics["area_mm2"]) and {k: ev.metrics[k] for k in area} == area
    assert ev.rows["latency_s"].sum() == pytest.approx(ev.metrics["latency_s"], rel=1e-12)


def test_single_family_form_gives_the_same_points_as_one_architecture(tmp_path):
    single = textwrap.dedent("""\
        workloads: {models: [gpt2], phases: [decode], seq_len: [128], layers: 1}
        family: roofline
        fixed: {node_nm: 28}
        sweep: {pes: [64, 256]}
        objectives: {latency_s: min, energy_j: min}
    """)
    one = single.replace("family: roofline\nfixed: {node_nm: 28}\nsweep: {pes: [64, 256]}\n",
                         "architectures:\n  - {family: roofline, fixed: {node_nm: 28}, sweep: {pes: [64, 256]}}\n")
    assert one != single
    (tmp_path / "a.yaml").write_text(single)
    (tmp_path / "b.yaml").write_text(one)
    run_sweep(tmp_path / "a.yaml", run="a", runs_dir=tmp_path, progress=False)
    run_sweep(tmp_path / "b.yaml", run="b", runs_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(RunStore(tmp_path / "a").points(), RunStore(tmp_path / "b").points())


@pytest.mark.parametrize("edits,expect", [
    ({"sweep: {channels: [4, 8]}": "sweep: {pes: [4, 8]}"},
     "architectures[1].sweep.pes: unknown PimParams parameter; allowed: channels"),
    ({"  - family: pim\n": "  - family: pim\n    bogus: 1\n"},
     "architectures[1].bogus: unknown key; allowed: family, fixed, sweep, mapping"),
    ({"  - family: pim\n": "  - family: tpu\n"}, "architectures[1].family: unknown family 'tpu'; allowed:"),
    ({"{latency_s: min, energy_j: min}": "{latency_s: min, area_asic_mm2: min}"},
     "objectives.area_asic_mm2 is not reported by family roofline (architectures[0]); allowed: latency_s, energy_j, area_mm2"),
    ({"sweep: {design: [flat, fusemax]}": "sweep: {design: [flat, fusemax]}\n    mapping: tpu"},
     "architectures[3].mapping: 'tpu' is not a attention mapping; allowed: fusemax, unfused, flat, flashattention2"),
    ({"seq_len: [128]": "seq_len: [100]", "buffer_kib: 1024}": "buffer_kib: 1024, mode: paper}"},
     "architectures[3].family: attention paper mode models prefill only"),
    ({"phases: [decode, prefill]": "phases: [prefill]"},
     "architectures[1].family: pim models phases decode; the workloads have prefill"),
    ({"architectures:\n": "family: roofline\narchitectures:\n"}, "family cannot sit beside architectures"),
])
def test_mixed_errors_are_one_line_with_key_path_exit_2(tmp_path, capsys, edits, expect):
    text = MIXED
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    rc = main(["sweep", str(path), "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"einspace: error: {path}: "), err
    assert expect in err, err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_sweep_report_flag_prints_the_report_path_last(tmp_path, capsys):
    path = tmp_path / "small.yaml"
    path.write_text(MIXED.replace("pes: [64, 256, 1024, 4096], buffer_mib: [0.5, 2, 8], "
                                  "dram_bandwidth_gb_per_s: [25.6, 256]", "pes: [64]"))
    rc = main(["sweep", str(path), "--run", "r", "--runs-dir", str(tmp_path / "runs"), "--reports-dir",
               str(tmp_path / "reports"), "--quiet", "--report"])
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 0
    assert out[0].startswith("run r: ") and str(tmp_path / "reports" / "r" / "index.html") in out[0]
    assert out[-1] == str(tmp_path / "reports" / "r" / "index.html")
    page = (tmp_path / "reports" / "r" / "index.html").read_text()
    assert "id='families'" in page or 'id="families"' in page
    for fam in ("roofline", "pim", "bitserial", "attention"):
        assert fam in page


@pytest.mark.parametrize("phase", ["decode", "prefill"])
def test_attention_decoder_phases_equal_sim_attention_array(phase):
    """A decoder's prefill is costed causal, its decode step as one query row over the cache."""
    from experiments.families import get_family
    from sim.attention_array.arch import FUSEMAX
    from experiments.reproductions.fusemax_layers import simulate_decode, simulate_model

    w = _workload("gpt2", phase, 256, 2)
    params = {"design": "fusemax", "mode": "cycle", "array_rows": 64, "array_cols": 64, "buffer_kib": 2048}
    ev = get_family("attention").evaluate(Point("attention", "array", w, params))
    arch = replace(FUSEMAX, rows_2d=64, cols_2d=64, buffer_bytes=2048 * 1024)
    ref = (simulate_decode("fusemax", "gpt2", 255, batch=1, arch=arch) if phase == "decode"
           else simulate_model("fusemax", "gpt2", 256, batch=1, arch=arch, causal=True))
    assert ref.layer.causal == (phase == "prefill")
    assert ev.metrics["latency_s"] == pytest.approx(2 * ref.end_to_end_cycles / 940e6, rel=1e-12)
    assert ev.rows.loc[ev.rows["group"] == "attention", "offchip_bytes"].sum() == pytest.approx(2 * ref.traffic_bytes)
