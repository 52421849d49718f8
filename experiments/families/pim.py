"""The `pim` family: PIM-GPT (GDDR6-AiM channels + ASIC) on GPT decode.

A point's workload is lowered for decode (`experiments.families.cascade_of`: model, batch,
seq_len/kv_len, dtypes, attention variant, lm_head as given), `arch` builds a
`sim.pim.spec.PimSystem` from the design parameters, `mappers.pim.map` places each Einsum (weight
GEMVs and 3-pass attention on PIM, vector work on the ASIC, KV appends on the channel buses) and
`sim.pim.simulate` runs the command program on the analytic path (proven equal to the fast and the
event-driven engines): one row per Einsum, totals from the rows, area and the speedups over the T4
roofline and eager baselines in `Result.design`.

`tokens` (default 1) decodes that many tokens back to back as one command stream, the last one
attending over the workload's whole cache (token t over kv = cache - tokens + t): with `tokens` =
seq_len it is the PIM-GPT reproduction's decode from an empty cache (`experiments/pim_gpt.yaml`).

`check` refuses, in one line naming the key, what PIM-GPT does not model: prefill, encoder models,
a 2-/1-pass softmax (its scores read a re-partitioned copy of the cache), operands that are not
16-bit floats (AiM multiplies BF16), and a decode with no cache to attend over. A batch > 1 runs
as PIM-GPT would: one GEMV stream per sequence (and per new token), each with its own cache.
"""
from __future__ import annotations

import dataclasses

from pydantic import BaseModel, ConfigDict, Field

import mappers.pim
import sim.pim
from sim.pim.spec import PimSystem
from workloads import get_model
from workloads.errors import SpecError

from . import Family

WORD_DTYPES = ("fp16", "bf16")
DTYPE_KEYS = ("weight_dtype", "activation_dtype", "kv_dtype")


class PimParams(BaseModel):
    """Design parameters (defaults: `PimSystem`, the PIM-GPT configuration used here)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: int = Field(8, gt=0, description="GDDR6-AiM channels")
    asic_clock_mhz: float = Field(1000.0, gt=0, description="ASIC clock, MHz")
    asic_lanes: int = Field(16, gt=0, description="ASIC vector lanes")
    tokens: int = Field(1, gt=0, description="decode tokens run back to back, the last at the workload's cache")


def arch(params: PimParams, workload: dict) -> PimSystem:
    """The PIM system of a design point (the workload does not change it)."""
    return dataclasses.replace(PimSystem(), channels=params.channels, asic_clock_hz=params.asic_clock_mhz * 1e6,
                               asic_lanes=params.asic_lanes, decode_tokens=params.tokens)


def _cache_len(workload: dict) -> int:
    """Tokens the decode step attends over (its cache after the append)."""
    kv = workload.get("kv_len")
    return workload["seq_len"] if kv is None else kv + 1


MAX_BATCH = 256  # sequences per point: each is its own GEMV stream, so work grows linearly (docs/limits.md)


def check(workload: dict, params: dict) -> None:
    """Raise `SpecError` (one line: key, value, what is allowed) for a point PIM-GPT cannot run."""
    phase = workload.get("phase", "decode")
    if phase != "decode":
        raise SpecError(f"phase: {phase!r}; the pim family models PIM-GPT's decode (allowed: decode)")
    model = get_model(workload["model"])
    if model.kind != "decoder":
        raise SpecError(f"model: {model.name!r} is an {model.kind} model; the pim family decodes (allowed: decoder models)")
    if model.n_experts:
        raise SpecError(f"model: {model.name!r} has Mixture-of-Experts MLPs ({model.n_experts} experts, top "
                        f"{model.experts_per_token}); PIM-GPT maps fixed weight GEMVs to banks, with no expert "
                        f"routing (allowed: dense decoder models)")
    attention = workload.get("attention", "3pass")
    if attention != "3pass":
        raise SpecError(f"attention: {attention!r}; PIM-GPT computes scores over the KV cache, then "
                        f"softmax on the ASIC (allowed: 3pass)")
    for key in DTYPE_KEYS:
        dtype = workload.get(key, "fp16")
        if dtype not in WORD_DTYPES:
            raise SpecError(f"{key}: {dtype!r}; AiM's MAC units multiply 16-bit floats (allowed: {', '.join(WORD_DTYPES)})")
    if workload.get("kv_len") == 0:
        raise SpecError("kv_len: 0; PIM-GPT decodes over a KV cache (allowed: kv_len >= 1)")
    if workload.get("kv_len") is None and workload["seq_len"] < 2:
        raise SpecError(f"seq_len: {workload['seq_len']}; PIM-GPT decodes over a KV cache (allowed: seq_len >= 2)")
    if workload.get("batch", 1) > MAX_BATCH:
        raise SpecError(f"batch: {workload['batch']}; PIM-GPT streams each sequence's GEMVs in turn "
                        f"(allowed: 1..{MAX_BATCH})")
    tokens = PimParams(**params).tokens
    if tokens > _cache_len(workload):
        raise SpecError(f"tokens: {tokens}; a decode ending at cache length {_cache_len(workload)} has at most "
                        f"that many tokens (allowed: 1..{_cache_len(workload)})")


METRICS = ("latency_s", "energy_j", "speedup_vs_gpu_roofline", "speedup_vs_gpu_eager", "area_mm2",
           "area_pim_mac_mm2", "area_global_buffer_mm2", "area_asic_mm2", "throughput_tokens_per_s",
           "offchip_bytes")

FAMILY = Family(
    name="pim",
    params=PimParams,
    metrics=METRICS,
    arch=arch,
    map=mappers.pim.map,
    simulate=sim.pim.simulate,
    mappings=("pim-gpt",),
    phases=("decode",),
    fidelity="cycle-level (DRAM commands; sim.pim analytic path = fast engine = event-driven engine)",
    check=check,
    description="PIM-GPT: GDDR6-AiM in-bank GEMV + vector ASIC, decode (sim.pim analytic path)",
)
