"""A run with system-family points gets the system section: a per-unit timeline of one decode
token and the energy by unit and link of the best design's request."""
from __future__ import annotations

import textwrap

from experiments.cli import main

EXP = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [decode], seq_len: [32], layers: 1}
    architectures:
      - family: system
        sweep: {system: [hybrid, fusemax-dram]}
      - family: roofline
        sweep: {pes: [256]}
    objectives: {latency_s: min, energy_j: min}
""")


def test_the_report_draws_the_best_system_designs_timeline_and_energy(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(EXP)
    args = ["sweep", str(f), "--runs-dir", str(tmp_path / "runs"), "--run", "s", "--quiet", "--report",
            "--reports-dir", str(tmp_path / "rep")]
    assert main(args) == 0
    figures = tmp_path / "rep" / "s" / "figures" / "system"
    assert (figures / "gantt_decode.png").stat().st_size > 10_000
    assert (figures / "energy_breakdown.png").stat().st_size > 10_000
    page = (tmp_path / "rep" / "s" / "index.html").read_text()
    assert "Per-unit timeline of one decode token" in page and "figures/system/gantt_decode.png" in page


def test_a_run_without_system_points_has_no_system_section(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text("workloads: {models: [gpt2], phases: [decode], seq_len: [32], layers: 1}\nfamily: roofline\n"
                 "sweep: {pes: [64, 128]}\nobjectives: {latency_s: min}\n")
    assert main(["sweep", str(f), "--runs-dir", str(tmp_path / "runs"), "--run", "r", "--quiet", "--report",
                 "--reports-dir", str(tmp_path / "rep")]) == 0
    assert not (tmp_path / "rep" / "r" / "figures" / "system").exists()
