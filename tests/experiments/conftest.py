"""Shared fixtures of the experiment tests."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments.store import RunStore

ROOT = Path(__file__).resolve().parents[2]


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """The pids still alive (and not zombies) after up to `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if Path(f"/proc/{p}").exists() and "State:\tZ" not in
                 Path(f"/proc/{p}/status").read_text(errors="replace")]
        time.sleep(0.05)
    return alive


@pytest.fixture
def kill_sweep():
    """Start `einspace sweep FILE --run RUN` in a subprocess, SIGKILL it once at least
    `min_stored` points are stored, and return how many points the store holds."""
    def run(exp_file: Path, runs_dir: Path, run: str, min_stored: int, jobs: int = 1) -> int:
        code = "import sys; from experiments.cli import main; sys.exit(main(sys.argv[1:]))"
        args = [sys.executable, "-c", code, "sweep", str(exp_file), "--run", run, "--runs-dir", str(runs_dir),
                "--jobs", str(jobs), "--chunk-size", "1", "--quiet"]
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        points_dir = runs_dir / run / "points"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if points_dir.is_dir() and sum(1 for _ in points_dir.glob("[!.]*.parquet")) >= min_stored:
                break
            time.sleep(0.002)
        children = child_pids(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        orphans = wait_gone(children, 10.0)
        assert not orphans, f"workers {orphans} outlived the killed sweep"
        return len(RunStore(runs_dir / run).done_ids())

    return run
