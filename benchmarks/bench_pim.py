"""Wall seconds per simulated GPT-2 XL decode token (kv 1024): fast path and event-driven engine."""
from __future__ import annotations

import time

from mappers.pim import map_decode
from sim.pim.reproduce import token_run
from workloads import lower


def run() -> list[dict]:
    plan = map_decode(lower("gpt2-xl", "decode", seq_len=1024))
    rows = []
    for engine in ("fast", "event"):
        t0 = time.perf_counter()
        token_run(plan, 1024, engine)
        rows.append({"benchmark": "pim_gpt2xl_token", "metric": f"wall_s_{engine}",
                     "value": time.perf_counter() - t0, "unit": "s/token"})
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
