"""GPU and CPU baselines for the PIM-GPT reproduction: ideal rooflines and an eager-framework model.

* **Ideal roofline** (`sim.roofline`): every Einsum at max(compute, DRAM traffic / bandwidth),
  energy = TDP x time. No software overhead: a lower bound on a real GPU/CPU decode step.
* **Eager framework** (`eager_decode`): a decode step as eager PyTorch runs it (batch 1, one kernel
  launch per operator, launched from Python). Per-token time = sum over kernels of
  max(roofline time of the kernel, per-kernel dispatch overhead): launches are asynchronous, so a
  kernel costs its GPU time when that is longer than the host's dispatch of the next one, and the
  host's dispatch time otherwise. Kernel rule: one kernel per Einsum of the lowered cascade, except
  that (a) the six Einsums of a LayerNorm (MU, XC, VAR, XN, XG, Y) are one kernel
  (`torch.nn.functional.layer_norm` is one ATen op) and (b) a matmul Einsum `X_mm` and its bias add
  `X` are one kernel (`torch.addmm`, as HF GPT-2's Conv1D runs them). Energy = TDP x time (no
  cited average-power figure for these devices running GPT decode was found; see docs/pim.md).

PIM-GPT measured its GPU/CPU baselines running the models (framework included), so the eager model
is the one its methodology corresponds to; the roofline is kept as the bound.

The GPU is an NVIDIA T4 (NVIDIA T4 Tensor Core GPU datasheet: 65 TFLOPS FP16 mixed precision,
8.1 TFLOPS FP32, 320 GB/s GDDR6, 70 W, 4 MB L2, 545 mm^2 TU104 die) -- assumed to be PIM-GPT's GPU
baseline, not confirmed from the paper text. The CPU is `sim.roofline`'s Xeon Platinum 8380 preset
(a stand-in for the paper's CPU, also unconfirmed).
"""
from __future__ import annotations

import functools

import pandas as pd

from sim import roofline
from sim.roofline import PRESETS, RooflineSpec
from workloads import lower

T4 = RooflineSpec(
    name="t4", peak_macs_per_s=65e12 / 2, vector_ops_per_s=8.1e12, buffer_bytes=4 * 2**20,
    dram_bandwidth_bytes_per_s=320e9, dram_energy_j_per_bit=0.0, mac_energy_j=0.0,
    vector_op_energy_j=0.0, sram_energy_j_per_byte=0.0, area_mm2=545.0, static_power_w=70.0,
    source="NVIDIA T4 datasheet (65 TFLOPS FP16, 320 GB/s, 70 W); energy = TDP x time")

BASELINES: dict[str, RooflineSpec] = {"gpu": T4, "cpu": PRESETS["xeon-8380"]}

# Host-side cost of one eager PyTorch operator, Python call to kernel enqueue: "~5-25 us of
# CPU-side work per op" (Python ~1 us, pybind11 ~1 us, autograd ~1-3 us, ATen dispatch ~1-2 us,
# backend ~1-5 us, cudaLaunchKernel ~1-3 us), J. Lin, "From PyTorch op to kernel launch",
# jiahuanglin.xyz/all_lessons/gpu_kernel_serving/18_pytorch_to_kernel.html. The low end is used
# for both devices (on the CPU the same dispatch layers run, without the driver launch).
DISPATCH_OVERHEAD_S: dict[str, float] = {"gpu": 5e-6, "cpu": 5e-6}
DISPATCH_OVERHEAD_RANGE_S = (5e-6, 25e-6)

# PIM-GPT (arXiv:2310.09385 v1 abstract): speedup over GPU 41-137x, over CPU 631-1074x.
PAPER_SPEEDUP = {"gpu": (41.0, 137.0), "cpu": (631.0, 1074.0)}

_NORM_PARTS = (".MU", ".XC", ".VAR", ".XN", ".XG", ".Y")


def kernel_ids(einsums: pd.Series) -> list[str]:
    """The eager kernel each Einsum belongs to (rule in the module docstring)."""
    names = set(einsums)
    out = []
    for name in einsums:
        kernel = name
        for part in _NORM_PARTS:
            if name.endswith(part) and name[: -len(part)] + ".MU" in names:
                kernel = name[: -len(part)] + ".LN"
                break
        if f"{name}_mm" in names:
            kernel = f"{name}_mm"
        out.append(kernel)
    return out


def eager_decode(cascade, spec: RooflineSpec, overhead_s: float) -> dict[str, float]:
    """Per-token latency/energy of an eager-framework decode step, and its kernel count."""
    per_kernel = kernel_latencies_s(cascade, spec)
    latency = sum(max(r, overhead_s) for r in per_kernel)
    return {"latency_s": latency, "energy_j": latency * spec.static_power_w,
            "kernels": len(per_kernel)}


def kernel_latencies_s(cascade, spec: RooflineSpec) -> list[float]:
    """Roofline time of every eager kernel of a decode step (kernel rule in the module docstring)."""
    rows = roofline.einsum_rows(cascade.table(), spec)
    return rows.groupby(kernel_ids(rows["einsum"]), sort=False)["latency_s"].sum().tolist()


def implied_overhead_s(kernel_s: list[float], latency_s: float) -> float | None:
    """The per-kernel dispatch overhead o at which the eager model takes `latency_s`: the root of
    sum_k max(r_k, o) = latency_s, piecewise linear and increasing in o (at exactly the roofline
    sum any o up to the shortest kernel solves it; that one is returned). None when `latency_s` is
    below the roofline sum (no overhead can make the step faster than its kernels)."""
    r = sorted(kernel_s)
    suffix = sum(r)
    if latency_s < suffix:
        return None
    n = len(r)
    for j in range(1, n + 1):
        suffix -= r[j - 1]
        o = (latency_s - suffix) / j
        if o >= r[j - 1] and (j == n or o <= r[j]):
            return o
    return None


def offchip_bytes_per_step(cascade, spec: RooflineSpec) -> float:
    """Off-chip bytes of one decode step on `spec` (the roofline's traffic rule)."""
    return float(roofline.offchip_bytes(cascade.table(), spec).sum())


def roofline_decode(cascade, spec: RooflineSpec) -> dict[str, float]:
    """Per-step latency and energy of the ideal roofline (`sim.roofline`, one kernel per Einsum)."""
    res = roofline.simulate_cascade(cascade, spec)
    return {"latency_s": res.latency_s, "energy_j": res.energy_j}


def gpu_speedups(cascade, pim_latency_s: float) -> dict[str, float]:
    """Speedups per decode step of a PIM run taking `pim_latency_s` over the T4 roofline and eager
    baselines of the same cascade."""
    gpu = BASELINES["gpu"]
    roof, eager = cascade.memoized(("pim.gpu_baselines", gpu), lambda: (
        roofline_decode(cascade, gpu)["latency_s"],
        eager_decode(cascade, gpu, DISPATCH_OVERHEAD_S["gpu"])["latency_s"]))
    return {"speedup_vs_gpu_roofline": roof / pim_latency_s, "speedup_vs_gpu_eager": eager / pim_latency_s}


def implied_baseline(cascade, spec, device: str, pim_latency_ms: float) -> dict:
    """What the paper's speedup band implies about its `device` baseline, given our PIM latency:
    the baseline's latency per token at both band ends, the per-kernel dispatch overhead at which
    the eager model takes that long, and the effective DRAM bandwidth (our traffic per token over
    that latency) a pure roofline would need. Explanatory only; no model parameter uses them."""
    kernels = kernel_latencies_s(cascade, spec)
    traffic = offchip_bytes_per_step(cascade, spec)
    out = {}
    for end, band in zip(("lo", "hi"), PAPER_SPEEDUP[device]):
        lat_ms = pim_latency_ms * band
        o = implied_overhead_s(kernels, lat_ms * 1e-3)
        out[f"{device}_band_latency_ms_{end}"] = lat_ms
        out[f"{device}_implied_overhead_us_{end}"] = None if o is None else o * 1e6
        out[f"{device}_implied_bandwidth_gbps_{end}"] = traffic / (lat_ms * 1e-3) / 1e9
    return out


NOCACHE_POINTS = 5


@functools.lru_cache(maxsize=2 * NOCACHE_POINTS)
def _prefill(model: str, seq_len: int):
    return lower(model, "prefill", seq_len=seq_len)


def nocache_roofline_ms(model: str, tokens: int, spec) -> float:
    """Mean roofline latency per token of a decode WITHOUT a KV cache (token t recomputes its
    whole t-token context, as a prefill of length t), t = 1..tokens, by the trapezoid rule over
    NOCACHE_POINTS evenly spaced lengths. A hypothesis for the paper's baselines, not a baseline
    of ours."""
    ts = sorted({max(1, round(1 + i * (tokens - 1) / (NOCACHE_POINTS - 1)))
                 for i in range(NOCACHE_POINTS)})
    lat = [roofline.simulate_cascade(_prefill(model, t), spec).latency_s * 1e3 for t in ts]
    if len(ts) == 1:
        return lat[0]
    area = sum((ts[i + 1] - ts[i]) * (lat[i] + lat[i + 1]) / 2 for i in range(len(ts) - 1))
    return area / (ts[-1] - ts[0])
