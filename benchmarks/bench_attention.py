"""Attention tile search: time per layer and FA2 traffic ÷ lower bound at long sequences."""
from __future__ import annotations

import time

from mappers.attention import AttentionLayer, search, search_design
from experiments.reproductions.fusemax import fa2_bound_table


def run() -> list[dict]:
    rows = []
    layer = AttentionLayer(n_q=1 << 20, n_kv=1 << 20, head_dim=128, heads=32, kv_heads=8)
    start = time.perf_counter()
    search(layer, 1 << 20)
    rows.append({"benchmark": "attention_search_1M_tokens_all_designs", "metric": "time",
                 "value": time.perf_counter() - start, "unit": "s"})
    for n in (1 << 12, 1 << 14, 1 << 20):
        fa2 = search_design("flashattention2", AttentionLayer(n_q=n, n_kv=n, head_dim=128), 1 << 20)
        rows.append({"benchmark": f"attention_fa2_N{n}_d128_1MiB", "metric": "traffic_over_bound",
                     "value": fa2.ratio_to_lower_bound, "unit": "ratio"})
    worst = max(max(fa2_bound_table(d).values()) for d in (64, 128))
    rows.append({"benchmark": "attention_fa2_worst_1K_to_1M_d64_d128_64KiB_to_16MiB",
                 "metric": "traffic_over_bound", "value": worst, "unit": "ratio"})
    return rows
