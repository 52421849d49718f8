"""The GPU baseline: the same request (or phase) on a one-GPU system, and a design's ratios over it.

The baselines are system presets (`sim/system/presets/gpu-a100.yaml`, `gpu-h100.yaml`): one
roofline unit (`sim/presets/roofline.yaml` `a100-40gb`, `h100-sxm`) that is the host and runs every
Einsum, evaluated through the very request path of the heterogeneous designs (`run_request`, auto
placement). A GPU's energy is TDP x busy time (`sim.roofline`: an upper bound on a GPU's energy,
so energy ratios over it are generous to the design; stated wherever they are printed).

Ratios (> 1: the design is better):
* `speedup` = GPU request latency / design request latency (TTFT + hand-off + decode);
  `speedup_ttft`, `speedup_tpot` the same per phase;
* `energy_ratio` = GPU request energy / design request energy (= the J/token ratio: same tokens).
"""
from __future__ import annotations

from functools import lru_cache

from experiments.system.evaluate import evaluate_phase
from experiments.system.request import run_request
from sim.system.spec import load_system

BASELINES = ("gpu-a100", "gpu-h100")
CHOICES = (*BASELINES, "none")


@lru_cache(maxsize=64)
def baseline_request(name: str, request):
    """The request on the GPU preset `name` (auto placement; cached per process)."""
    return run_request(load_system(name), request)


@lru_cache(maxsize=256)
def _phase(name: str, workload_key: tuple):
    return evaluate_phase(load_system(name), dict(workload_key)).result


def baseline_phase(name: str, workload: dict):
    """One phase (a prefill or one decode step) on the GPU preset `name`: its `Result` (cached)."""
    return _phase(name, tuple(sorted(workload.items())))


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("inf")


def versus(design, base) -> dict[str, float]:
    """A request's ratios over the baseline request (module docstring)."""
    return {"speedup": _ratio(base.latency_s, design.latency_s),
            "speedup_ttft": _ratio(base.ttft_s, design.ttft_s),
            "speedup_tpot": _ratio(base.tpot_s, design.tpot_s),
            "energy_ratio": _ratio(base.energy_j, design.energy_j),
            "baseline_latency_s": base.latency_s, "baseline_energy_j": base.energy_j,
            "baseline_ttft_s": base.ttft_s, "baseline_tpot_s": base.tpot_s,
            "baseline_j_per_token": base.energy_j / base.tokens, "baseline_area_mm2": sum(base.area_mm2.values())}


def phase_versus(result, base) -> dict[str, float]:
    """One phase's ratios over the baseline phase: `speedup_vs_gpu`, `energy_ratio_vs_gpu`."""
    return {"speedup_vs_gpu": _ratio(base.latency_s, result.latency_s),
            "energy_ratio_vs_gpu": _ratio(base.energy_j, result.energy_j),
            "gpu_latency_s": base.latency_s, "gpu_energy_j": base.energy_j}
