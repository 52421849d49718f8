"""The `bitserial` family: BitMoD-style weight-quantized PE arrays (Chen et al., HPCA 2025).

A point lowers its workload (`workloads.lower`, the same cascade every family sees), extracts the
matrix Einsums as GEMMs (`mappers.bitserial.gemm.extract_gemms`: QKV, projections, MLP, LM head and
the attention matmuls QK/AV) and costs each on an `sim.bitserial.spec.AcceleratorSpec`:

* `mode: paper` — the paper's analytical accounting (`sim.bitserial.paper.paper_gemm`:
  max(compute, DRAM) per GEMM, no overlap between GEMMs);
* `mode: cycle` — the buffer-level tile schedule stepped cycle by cycle with double buffering,
  refetch, fill/stall/drain (`mappers.bitserial.evaluate.cycle_gemm`), on the paper's DRAM bus.

GEMMs run one after another. Vector Einsums (norms, softmax, activations, residuals) are **not
modeled** by this accelerator model: they cost nothing here and are counted in the metrics
`vector_einsums_not_modeled` / `vector_ops_not_modeled`.

The design starts from the paper's configuration of `accel` for `task` (PE type, array shape,
weight bits; `sim.bitserial.presets`); `rows`, `cols`, `lanes`, `buffer_kib`, `weight_bits`
override it. ANT/OliVe weight bits are per model in the paper; for a model outside the paper's set
the most common paper value is used (ANT 5, OliVe 4) unless `weight_bits` is given. Changing
`lanes` scales the PE's energy per cycle and area linearly from the synthesized figure (an
assumption of this family, not a paper figure).

Area: PEs × the paper's synthesized PE area (28 nm, µm², no place-and-route factor) plus the weight
and input buffers at `sim.roofline.sram_area_mm2_per_byte(28)` (bitcell area / 50 % array
efficiency); the DRAM bus and controllers are not included.
"""
from __future__ import annotations

import math
from dataclasses import replace
from statistics import mode as most_common
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from mappers.bitserial.evaluate import MODES, cycle_gemm
from mappers.bitserial.gemm import extract_gemms
from sim import roofline
from sim.bitserial import presets
from sim.bitserial.paper import paper_gemm
from sim.bitserial.spec import AcceleratorSpec
from sim.roofline import sram_area_mm2_per_byte, sram_energy_j_per_byte

from . import Evaluation, Family, cascade_of

NODE_NM = 28
_PAPER_MODEL = "llama-2-7b"
DEFAULT_WEIGHT_BITS = {"ant": most_common(presets.ANT_WEIGHT_BITS.values()),
                       "olive": most_common(presets.OLIVE_WEIGHT_BITS.values())}


class BitserialParams(BaseModel):
    """Design parameters (defaults: the paper's BitMoD-lossy generative configuration)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accel: Literal[presets.ACCELS] = "bitmod-lossy"  # type: ignore[valid-type]
    task: Literal[presets.TASKS] = "generative"  # type: ignore[valid-type]
    rows: int | None = Field(None, gt=0, description="PE rows (output channels); default: the paper's array")
    cols: int | None = Field(None, gt=0, description="PE columns (tokens); default: the paper's array")
    lanes: int | None = Field(None, gt=0, description="activation lanes per PE; default: the PE's own")
    buffer_kib: int = Field(512, gt=0, description="each of the weight and input buffers, KiB")
    weight_bits: float | None = Field(None, ge=1, le=32, description="default: the paper's for accel/task/model")
    mode: Literal[MODES] = "paper"  # type: ignore[valid-type]


def accelerator(params: BitserialParams, model: str) -> AcceleratorSpec:
    """The `AcceleratorSpec` of a design point."""
    paper_model = model if model in presets.MODELS else _PAPER_MODEL
    base = presets.accelerator(params.accel, params.task, paper_model)
    bits = params.weight_bits
    if bits is None and model not in presets.MODELS and params.accel in DEFAULT_WEIGHT_BITS:
        bits = DEFAULT_WEIGHT_BITS[params.accel]
    pe = base.pe
    if params.lanes is not None and params.lanes != pe.lanes:
        scale = params.lanes / pe.lanes
        pe = replace(pe, lanes=params.lanes, energy_pj_per_cycle=pe.energy_pj_per_cycle * scale,
                     area_um2=pe.area_um2 * scale)
    capacity = params.buffer_kib * presets.KIB
    pj_per_bit = sram_energy_j_per_byte(capacity, NODE_NM) * 1e12 / 8
    buf = replace(base.weight_buffer, capacity_bytes=capacity, read_energy_pj_per_bit=pj_per_bit,
                  write_energy_pj_per_bit=pj_per_bit)
    return replace(base, pe=pe, rows=params.rows or base.rows, cols=params.cols or base.cols,
                   weight_buffer=buf, input_buffer=buf, weight_bits=base.weight_bits if bits is None else bits)


def area_mm2(accel: AcceleratorSpec) -> float:
    """PE array (synthesized PE area) plus both SRAM buffers."""
    buffers = accel.weight_buffer.capacity_bytes + accel.input_buffer.capacity_bytes
    return accel.pes * accel.pe.area_um2 * 1e-6 + buffers * sram_area_mm2_per_byte(NODE_NM)


def evaluate(point) -> Evaluation:
    """Latency, energy and area of the workload's matrix Einsums on the bit-serial array."""
    p = BitserialParams(**point.params)
    cascade = cascade_of(point.workload)
    accel = accelerator(p, point.workload["model"])
    cost = paper_gemm if p.mode == "paper" else cycle_gemm
    memo: dict = {}
    rows = []
    for g in extract_gemms(cascade):
        key = (g.m_tokens, g.k_reduce, g.n_out, g.batch, g.is_attention)
        if key not in memo:
            memo[key] = cost(g, accel)
        r = memo[key]
        energy_pj = r["energy_compute_pj"] + r["energy_sram_pj"] + r["energy_dram_pj"]
        rows.append({"einsum": g.name, "group": g.group, "layer": math.nan if g.layer is None else float(g.layer),
                     "macs": g.macs, "cycles": r["cycles"], "latency_s": r["cycles"] / (accel.clock_ghz * 1e9),
                     "offchip_bytes": r["dram_bytes"], "energy_compute_j": r["energy_compute_pj"] * 1e-12,
                     "energy_sram_j": r["energy_sram_pj"] * 1e-12, "energy_dram_j": r["energy_dram_pj"] * 1e-12,
                     "energy_j": energy_pj * 1e-12})
    table = pd.DataFrame(rows)
    matrix = {g.name for g in extract_gemms(cascade)}
    vector = [s for e, s in zip(cascade.einsums, cascade.stats) if e.name not in matrix]
    latency = float(table["latency_s"].sum())
    energy = float(table["energy_j"].sum())
    area = area_mm2(accel)
    tokens = roofline.tokens_of(cascade.meta)
    macs = float(table["macs"].sum())
    metrics = {
        "latency_s": latency, "energy_j": energy, "area_mm2": area, "edp_js": latency * energy,
        "power_w": energy / latency, "throughput_tokens_per_s": tokens / latency,
        "throughput_per_area": tokens / latency / area,
        "utilization": macs / (float(table["cycles"].sum()) * accel.pes * accel.pe.lanes),
        "offchip_bytes": float(table["offchip_bytes"].sum()),
        "energy_compute_j": float(table["energy_compute_j"].sum()), "energy_sram_j": float(table["energy_sram_j"].sum()),
        "energy_dram_j": float(table["energy_dram_j"].sum()), "weight_bits": accel.weight_bits,
        "vector_einsums_not_modeled": float(len(vector)),
        "vector_ops_not_modeled": float(sum(sum(s.ops.values()) for s in vector)),
    }
    return Evaluation(metrics=metrics, rows=table)


METRICS = ("latency_s", "energy_j", "area_mm2", "edp_js", "power_w", "throughput_tokens_per_s",
           "throughput_per_area", "utilization", "offchip_bytes", "energy_compute_j", "energy_sram_j",
           "energy_dram_j", "weight_bits", "vector_einsums_not_modeled", "vector_ops_not_modeled")

FAMILY = Family(
    name="bitserial",
    params=BitserialParams,
    legacy_evaluate=evaluate,
    metrics=METRICS,
    mappings=("output-stationary",),
    description="BitMoD-style PE array (sim.bitserial): matrix Einsums only, output-stationary tiling",
    fidelity="paper: analytical (max(compute, DRAM) per GEMM); cycle: cycle-level tile schedule",
)
