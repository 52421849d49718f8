"""The demo report in headless Chromium: every image decodes, every figure panel shows data drawn
in colour or says why it was left out, and the Pareto table is there.

The experiment is the demo's (`experiments/examples/demo.yaml`: all four families on GPT-2) cut
to one layer and a short sequence so the sweep takes a few seconds. Skips with the reason when
no Chromium is installed (`make chromium` installs Debian's package)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from experiments.cli import main
from experiments.plots import FAMILY_COLOURS


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render(page, profile) -> str:
    """The DOM of `page` after its load handlers ran (file images readable by the page's canvas)."""
    exe = chromium()
    if exe is None:
        pytest.skip("chromium not installed (make chromium, or apt-get install -y chromium)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--allow-file-access-from-files", f"--user-data-dir={profile}",
           "--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    exp = yaml.safe_load(open("experiments/examples/demo.yaml"))
    exp["workloads"].update({"seq_len": [64], "layers": 1})
    (d / "demo.yaml").write_text(yaml.safe_dump(exp, sort_keys=False))
    assert main(["sweep", str(d / "demo.yaml"), "--run", "demo", "--runs-dir", str(d / "runs"), "--quiet",
                 "--report", "--reports-dir", str(d / "reports")]) == 0
    return d / "reports" / "demo" / "index.html"


def test_demo_report_in_headless_chromium(demo_report, tmp_path):
    dom = render(demo_report, tmp_path / "profile")
    check = re.search(r'<p id="image-check"([^>]*)>', dom)
    assert check, dom[-2000:]
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', check.group(1)))
    assert int(attrs["total"]) >= 8 and attrs["loaded"] == attrs["total"], attrs
    assert attrs["empty"] == "0" and attrs["blank"] == "0" and attrs["unchecked"] == "0", attrs
    statuses = re.findall(r'<figure class="panel[^"]*"[^>]*data-status="([a-z]+)"', dom)
    assert statuses and set(statuses) <= {"ok", "omitted"}, statuses
    assert statuses.count("ok") == int(attrs["total"])
    assert 'id="pareto-table"' in dom
    # every family of the demo is drawn, PIM included (its group energies were once left empty)
    for fam in ("roofline", "pim", "bitserial", "attention"):
        assert fam in FAMILY_COLOURS and f"{fam}</td>" in dom


def test_omitted_panels_say_why(demo_report):
    html = demo_report.read_text()
    for fig in re.findall(r"<figure class='panel omitted'>.*?</figure>", html):
        assert "<p class='why'>" in fig and "left out" in fig
