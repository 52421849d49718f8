"""Array-model benchmark: simulation wall time and FuseMax's 2D utilization and speedup over FLAT."""
import time

from experiments.reproductions.fusemax_layers import simulate_model


def run() -> list[dict]:
    rows = []
    for n in (4096, 1 << 20):
        t = time.perf_counter()
        fm = simulate_model("fusemax", "fusemax-bert", n)
        flat = simulate_model("flat", "fusemax-bert", n)
        dt = time.perf_counter() - t
        rows += [
            {"benchmark": f"attention_array_bert_{n}", "metric": "sim_seconds", "value": dt, "unit": "s"},
            {"benchmark": f"attention_array_bert_{n}", "metric": "fusemax_util_2d",
             "value": fm.util_2d, "unit": "fraction"},
            {"benchmark": f"attention_array_bert_{n}", "metric": "speedup_vs_flat",
             "value": flat.cycles / fm.cycles, "unit": "x"},
        ]
    return rows
