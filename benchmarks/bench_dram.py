"""Simulated DRAM requests per wall-clock second of each engine (simpy reference, plain loop)
on a streaming and a uniform-random read trace, DDR4-3200, mapping RoRaBaCoBgCh, open page."""
from __future__ import annotations

import time

from sim.dram import capacity_bytes, load_standard, simulate, synthetic
from sim.dram.engines import ENGINES

REQUESTS = 20000


def run() -> list[dict]:
    std = load_standard("DDR4-3200")
    rows: list[dict] = []
    for pattern in ("stream", "random"):
        entries = synthetic(pattern, REQUESTS, std.organization.burst_bytes, capacity_bytes(std),
                            seed=1)
        for engine in ENGINES:
            start = time.perf_counter()
            result = simulate(std, entries, engine=engine)
            wall = time.perf_counter() - start
            name = f"dram_{engine}_{pattern}"
            rows.append({"benchmark": name, "metric": "requests_per_s",
                         "value": float(REQUESTS / wall), "unit": "req/s"})
            rows.append({"benchmark": name, "metric": "commands_per_s",
                         "value": float(len(result.trace) / wall), "unit": "cmd/s"})
            rows.append({"benchmark": name, "metric": "bandwidth_efficiency",
                         "value": float(result.bandwidth_efficiency), "unit": "fraction"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
