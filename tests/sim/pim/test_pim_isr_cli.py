"""`einspace pim --gemv/--isr` as a user runs it: AiM trace cycles, counts per channel, errors."""
import json
import subprocess
import sys


def _run(*args):
    return subprocess.run([sys.executable, "-m", "experiments.cli", "pim", *args],
                          capture_output=True, text=True, timeout=120)


def test_gemv_emits_a_trace_that_isr_runs_to_the_same_cycles(tmp_path):
    path = tmp_path / "g.isr"
    proc = _run("--gemv", "1024", "1024", "--channels", "8", "--emit-isr", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cycles"] == 2393 and out["commands_per_channel"]["0"]["TMOD"] == 17
    assert out["energy_j"] > 0
    again = json.loads(_run("--isr", str(path), "--format", "json", "--engine", "fast").stdout)
    assert again["cycles"] == 2393 and again["commands"] == out["commands"]
    text = _run("--isr", str(path)).stdout
    assert "cycles 2393" in text and "MAC_AB(MAC16)" in text


def test_bad_trace_exits_2_with_file_and_line(tmp_path):
    path = tmp_path / "bad.isr"
    path.write_text("AiM WR_GB 64 0 0x80000000\nAiM MAC_ABK 99 0x80000000 0\nAiM EOC\n")
    proc = _run("--isr", str(path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:2: opsize 99" in lines[0]
