"""The report: HTML + Markdown, every image loads in headless Chromium, the Pareto table is there."""
from __future__ import annotations

import re
import shutil
import subprocess
import textwrap

import pytest

from experiments.cli import main

EXP = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [decode], seq_len: [32], layers: 1, lm_head: none}
    family: roofline
    sweep:
      pes: [64, 256, 1024]
      buffer_mib: [0.0625, 0.5]
      dram_bandwidth_gb_per_s: [25.6, 102.4]
    objectives: {latency_s: min, area_mm2: min}
    constraints: {area_mm2: {max: 10}}
    """)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    (d / "e.yaml").write_text(EXP)
    assert main(["sweep", str(d / "e.yaml"), "--run", "r", "--runs-dir", str(d / "runs"), "--quiet"]) == 0
    assert main(["report", "r", "--runs-dir", str(d / "runs"), "--reports-dir", str(d / "reports")]) == 0
    return d / "reports" / "r"


def test_report_files(report):
    html = (report / "index.html").read_text()
    md = (report / "index.md").read_text()
    assert 'id="pareto-table"' in html and "Package versions" in html and "sweep wall time" in html
    imgs = re.findall(r"<img src='([^']+)'", html)
    assert len(imgs) >= 4
    for src in imgs:
        assert (report / src).stat().st_size > 1000
        assert f"]({src})" in md
    assert "## Pareto-optimal points" in md and "```yaml" in md


def test_report_renders_in_headless_chromium(report, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium not found (apt-get install -y chromium)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--allow-file-access-from-files", f"--user-data-dir={tmp_path / 'profile'}", "--run-all-compositor-stages-before-draw",
           "--virtual-time-budget=5000", "--dump-dom", (report / "index.html").as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    m = re.search(r'id="image-check"[^>]*data-loaded="(\d+)"[^>]*data-total="(\d+)"', dom)
    assert m, dom[-2000:]
    loaded, total = int(m.group(1)), int(m.group(2))
    assert total >= 4 and loaded == total
    assert 'data-empty="0"' in dom and 'data-blank="0"' in dom
    assert 'id="pareto-table"' in dom


def test_colours_are_fixed_by_name_not_order():
    from experiments.plots import FAMILY_COLOURS, colour

    for fam in ("roofline", "pim", "bitserial", "attention", "system"):
        assert colour("family", fam) == FAMILY_COLOURS[fam]
    assert len(set(FAMILY_COLOURS.values())) == len(FAMILY_COLOURS)
    assert colour("unit", "some-new-unit") == colour("unit", "some-new-unit")  # hash, not order
    assert colour("group", "mlp") != colour("group", "lm_head")


def test_categorical_parameters_get_categorical_axes(tmp_path):
    import pandas as pd

    from experiments.plots import is_categorical, sensitivity

    assert is_categorical(["fp16", "ant"]) and not is_categorical([1.0, 4.0])
    pts = pd.DataFrame({"family": "bitserial", "accel": ["fp16", "ant", "olive"], "latency_s": [3e-3, 1e-3, 2e-3],
                        "energy_j": [1.0, 2.0, 3.0], "feasible": True})
    path, notes = sensitivity(pts, ["accel"], ["latency_s", "energy_j"], "t", tmp_path / "s.png")
    assert path.stat().st_size > 1000 and notes == []


def test_pareto_labels_do_not_overlap():
    import matplotlib.pyplot as plt
    import numpy as np

    from experiments.plots import place_labels

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = np.linspace(0, 1, 30)
    ax.plot(xs, xs, "o")
    boxes = place_labels(ax, xs, xs, [f"P{i}" for i in range(30)])
    plt.close(fig)
    assert boxes and all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


PIM_EXP = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [decode], seq_len: [32], layers: 1}
    family: pim
    sweep: {channels: [4, 8]}
    objectives: {latency_s: min, energy_j: min}
    """)


def test_pim_report_fills_the_group_energy_panel(tmp_path):
    """The PIM family's per-Einsum energies (bank, activate, io, asic, mac components) fill the
    energy-by-group panel; `energy_j` of every row is the sum of its components."""
    from experiments.report import einsum_rows
    from experiments.store import RunStore
    from sim.contract import energy_columns

    (tmp_path / "p.yaml").write_text(PIM_EXP)
    assert main(["sweep", str(tmp_path / "p.yaml"), "--run", "p", "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 0
    assert main(["report", "p", "--runs-dir", str(tmp_path / "runs"), "--reports-dir", str(tmp_path / "rep")]) == 0
    rows = einsum_rows(RunStore(tmp_path / "runs" / "p"))
    assert rows["energy_j"].sum() > 0
    assert abs(rows["energy_j"] - rows[energy_columns(rows)].fillna(0).sum(axis=1)).max() < 1e-15
    html = (tmp_path / "rep" / "p" / "index.html").read_text()
    assert "figures/groups_0.png" in html and "energy by group: no chosen point" not in html
    assert "No roofline-family design in this workload" in html  # omitted with its reason


def test_results_einsums_columns(tmp_path, capsys):
    import io

    import pandas as pd

    (tmp_path / "p.yaml").write_text(PIM_EXP)
    assert main(["sweep", str(tmp_path / "p.yaml"), "--run", "p", "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["results", "p", "--runs-dir", str(tmp_path / "runs"), "--einsums", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert {"energy_j", "total_energy_j", "latency_s", "total_latency_s"} <= set(df.columns)
    assert not any(c.endswith("_total") for c in df.columns)
    for _, g in df.groupby("point_id"):
        assert abs(g["energy_j"].sum() - g["total_energy_j"].iloc[0]) <= 1e-9 * g["total_energy_j"].iloc[0]
