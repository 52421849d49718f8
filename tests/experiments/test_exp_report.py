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
           f"--user-data-dir={tmp_path / 'profile'}", "--run-all-compositor-stages-before-draw",
           "--virtual-time-budget=5000", "--dump-dom", (report / "index.html").as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    m = re.search(r'id="image-check"[^>]*data-loaded="(\d+)"[^>]*data-total="(\d+)"', dom)
    assert m, dom[-2000:]
    loaded, total = int(m.group(1)), int(m.group(2))
    assert total >= 4 and loaded == total
    assert 'id="pareto-table"' in dom
