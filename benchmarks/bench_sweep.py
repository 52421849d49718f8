"""Design points per second: every family's evaluation in-process (the first points of its
example file), and full roofline sweeps (evaluate + atomic Parquet store) on the local engine
with 1 and 2 workers. Roofline workload: GPT-2 decode, one block, seq 64 (about 40 Einsums)."""
from __future__ import annotations

import tempfile
import textwrap
import time
from pathlib import Path

EXP = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [decode], seq_len: [64], layers: 1, lm_head: none}
    family: roofline
    sweep:
      pes: {logrange: [64, 4096, 7]}
      clock_mhz: [250, 500, 750, 1000]
      buffer_mib: {logrange: [0.0625, 4, 7]}
      dram_bandwidth_gb_per_s: [25.6, 102.4]
    objectives: {latency_s: min, area_mm2: min}
    """)


FAMILY_POINTS = 6


def run() -> list[dict]:
    from experiments import schema, space
    from experiments.runner import run_sweep
    from experiments.worker import evaluate_chunk

    rows = []
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "bench.yaml"
        f.write_text(EXP)
        exp, _ = schema.load(f)
        points = [p.as_dict() for p in space.design_points(exp, space.grid_designs(exp))]
        evaluate_chunk(points[:1])
        t0 = time.perf_counter()
        evaluate_chunk(points)
        dt = time.perf_counter() - t0
        rows.append({"benchmark": "roofline evaluate (in-process)", "metric": "throughput",
                     "value": len(points) / dt, "unit": "points/s"})
        for jobs in (1, 2):
            info = run_sweep(f, jobs=jobs, run=f"j{jobs}", runs_dir=d, progress=False)
            rows.append({"benchmark": f"roofline sweep, local engine, {jobs} worker(s), {info.planned} points",
                         "metric": "throughput", "value": info.planned / info.wall_s, "unit": "points/s"})
    for family in ("pim", "bitserial", "attention"):
        exp, _ = schema.load(Path("experiments/examples") / f"{family}.yaml")
        points = [p.as_dict() for p in space.design_points(exp, space.grid_designs(exp))][:FAMILY_POINTS]
        t0 = time.perf_counter()
        evaluate_chunk(points)
        rows.append({"benchmark": f"{family} evaluate (in-process, first {len(points)} points of its example)",
                     "metric": "throughput", "value": len(points) / (time.perf_counter() - t0), "unit": "points/s"})
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r['benchmark']}: {r['value']:.1f} {r['unit']}")
