"""Simulated DRAM requests per wall-clock second of each engine, and peak memory.

Each measurement runs in a fresh subprocess (`python -m benchmarks.bench_dram --one ...`), so
its peak RSS (`resource.getrusage(RUSAGE_SELF).ru_maxrss`, the whole process: interpreter, numpy,
numba and the run) is its own. Patterns: a streaming and a uniform-random read trace, mapping
RoRaBaCoBgCh, open page, all-bank refresh, on DDR4-3200, GDDR6 and HBM2.

* ``fast`` (compiled, streamed chunks, trace off): 1 M requests each, plus one 10 M-request
  random DDR4-3200 run for the flat-memory claim. The numba cache is warmed first, so compile
  time is not counted.
* ``simpy`` (the reference) and ``loop``: 20 000 requests each (their rate does not depend on
  the length; their memory grows with it: every request and command is a Python object).

Rows also report CPU-seconds-based rates (`process_time`), which a shared machine distorts less
than wall time.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

FAST_REQUESTS = int(os.environ.get("EINSPACE_BENCH_DRAM_REQUESTS", 1_000_000))
LONG_REQUESTS = int(os.environ.get("EINSPACE_BENCH_DRAM_LONG", 10_000_000))
REFERENCE_REQUESTS = 20_000
STANDARDS = ("DDR4-3200", "GDDR6", "HBM2")
PATTERNS = ("stream", "random")


def measure(engine: str, standard: str, pattern: str, requests: int) -> dict:
    """One run in this process: wall and CPU seconds, commands and peak RSS."""
    import resource

    from sim.dram import capacity_bytes, load_standard, simulate, synthetic
    from sim.dram.system import simulate_stream
    from sim.dram.trace import synthetic_chunks
    std = load_standard(standard)
    args = (pattern, requests, std.organization.burst_bytes, capacity_bytes(std))
    if engine == "fast":
        simulate_stream(std, synthetic_chunks(pattern, 100, *args[2:]))  # load the numba cache
    wall, cpu = time.perf_counter(), time.process_time()
    if engine == "fast":
        result = simulate_stream(std, synthetic_chunks(*args, seed=1, max_requests=requests))
    else:
        result = simulate(std, synthetic(*args, seed=1, max_requests=requests), engine=engine)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "commands": sum(result.command_counts.values()),
            "efficiency": result.bandwidth_efficiency,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure_in_subprocess(engine: str, standard: str, pattern: str, requests: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_dram", "--one", engine, standard,
                          pattern, str(requests)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def rows_for(engine: str, standard: str, pattern: str, requests: int) -> list[dict]:
    m = measure_in_subprocess(engine, standard, pattern, requests)
    name = f"dram_{engine}_{standard}_{pattern}_{requests}"
    return [
        {"benchmark": name, "metric": "requests_per_s", "value": requests / m["wall_s"],
         "unit": "req/s"},
        {"benchmark": name, "metric": "requests_per_cpu_s", "value": requests / m["cpu_s"],
         "unit": "req/s"},
        {"benchmark": name, "metric": "commands_per_s", "value": m["commands"] / m["wall_s"],
         "unit": "cmd/s"},
        {"benchmark": name, "metric": "peak_rss", "value": m["rss_mb"], "unit": "MB"},
        {"benchmark": name, "metric": "bandwidth_efficiency", "value": m["efficiency"],
         "unit": "fraction"},
    ]


def run() -> list[dict]:
    rows: list[dict] = []
    for standard in STANDARDS:
        for pattern in PATTERNS:
            rows += rows_for("fast", standard, pattern, FAST_REQUESTS)
            for engine in ("simpy", "loop"):
                rows += rows_for(engine, standard, pattern, REFERENCE_REQUESTS)
    if LONG_REQUESTS:
        rows += rows_for("fast", "DDR4-3200", "random", LONG_REQUESTS)
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
    else:
        for row in run():
            print(row)
