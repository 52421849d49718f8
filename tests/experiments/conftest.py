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


@pytest.fixture
def kill_sweep():
    """Start `einspace sweep FILE --run RUN` in a subprocess, SIGKILL it once at least
    `min_stored` points are stored, and return how many points the store holds."""
    def run(exp_file: Path, runs_dir: Path, run: str, min_stored: int) -> int:
        code = "import sys; from experiments.cli import main; sys.exit(main(sys.argv[1:]))"
        args = [sys.executable, "-c", code, "sweep", str(exp_file), "--run", run, "--runs-dir", str(runs_dir),
                "--jobs", "1", "--chunk-size", "1", "--quiet"]
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        points_dir = runs_dir / run / "points"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if points_dir.is_dir() and sum(1 for _ in points_dir.glob("[!.]*.parquet")) >= min_stored:
                break
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return len(RunStore(runs_dir / run).done_ids())

    return run
