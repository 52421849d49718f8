"""The `bitserial` family: BitMoD-style weight-quantized PE arrays (Chen et al., HPCA 2025).

A point's cascade (`workloads.lower`, the same every family sees) is mapped by
`mappers.bitserial.map` (strategy `output-stationary`: matrix Einsums — QKV, projections, MLP, LM
head, the attention matmuls QK/AV — to the PE array as GEMMs with their tile plans; vector Einsums
to the host) and simulated by `sim.bitserial.simulate`:

* `mode: paper` — the paper's analytical accounting (max(compute, DRAM) per GEMM, no overlap);
* `mode: cycle` — the buffer-level tile schedule stepped cycle by cycle with double buffering,
  refetch, fill/stall/drain, on the paper's DRAM bus or (`dram:` a standard) the command-level
  DRAM model.

Mapping `search` (instead of `output-stationary`) searches each GEMM's loop nest on the array
(`mappers.mapspace`, term cycles per step from the datatype) and costs it with `sim.pe_array`
(`sim.pe_array.bitserial`; the DRAM bus's bandwidth only).

GEMMs run one after another. Vector Einsums (norms, softmax, activations, residuals) are **not
modeled**: their rows carry `modeled=False` and zero cost, and the metrics
`vector_einsums_not_modeled` / `vector_ops_not_modeled` count them.

The design starts from the configuration of the accelerator kind `accel` for `task` (PE type,
array shape, weight bits; one file per kind in `sim/bitserial/accels/`, `sim.bitserial.kinds` —
a new file there is a new `accel` value); `rows`, `cols`, `lanes`, `buffer_kib`, `weight_bits`
override it. ANT/OliVe weight bits are per model in the paper; for a model outside the paper's set
the kind's `default` is used (ANT 5, OliVe 4: the most common paper values) unless `weight_bits`
is given. Changing `lanes` scales the PE's energy per cycle and area linearly from the
synthesized figure (an assumption of this family, not a paper figure). Area: `sim.bitserial.area`
(PEs and buffers at 28 nm; no DRAM interface).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

import mappers.bitserial
import sim.bitserial
import sim.pe_array.bitserial
from sim.bitserial import MODES, kinds, presets
from sim.bitserial.area import NODE_NM
from sim.bitserial.spec import AcceleratorSpec
from sim.dram import available_standards
from sim.roofline import sram_energy_j_per_byte
from workloads import get_model
from workloads.errors import SpecError

from . import Family

DRAM_MODELS = ("bandwidth", *available_standards())


class BitserialParams(BaseModel):
    """Design parameters (defaults: the paper's BitMoD-lossy generative configuration)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accel: str = Field("bitmod-lossy", description="an accelerator kind: a file of sim/bitserial/accels/")
    task: Literal[presets.TASKS] = "generative"  # type: ignore[valid-type]
    rows: int | None = Field(None, gt=0, description="PE rows (output channels); default: the kind's array")
    cols: int | None = Field(None, gt=0, description="PE columns (tokens); default: the kind's array")
    lanes: int | None = Field(None, gt=0, description="activation lanes per PE; default: the PE's own")
    buffer_kib: int = Field(512, gt=0, description="each of the weight and input buffers, KiB")
    weight_bits: float | None = Field(None, ge=1, le=32, description="default: the kind's for task/model")
    mode: Literal[MODES] = "paper"  # type: ignore[valid-type]
    dram: Literal[DRAM_MODELS] = Field(  # type: ignore[valid-type]
        "bandwidth", description="bandwidth (the paper's bus) or a sim.dram standard (cycle mode only)")

    @field_validator("accel")
    @classmethod
    def _known_accel(cls, value: str) -> str:
        if value not in kinds.names():
            raise ValueError(f"accelerator {value!r} is not known; choose one of: {', '.join(kinds.names())}")
        return value


def accelerator(params: BitserialParams, model: str) -> AcceleratorSpec:
    """The `AcceleratorSpec` of a design point."""
    base = presets.accelerator(params.accel, params.task, model, params.dram)
    bits = params.weight_bits
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


def arch(params: BitserialParams, workload: dict) -> AcceleratorSpec:
    """The accelerator of a design point (the paper's weight bits depend on the model)."""
    return accelerator(params, workload["model"])


def check(workload: dict, params: dict) -> None:
    """Refuse the command-level DRAM model in paper mode (the paper's accounting is bytes / bandwidth),
    and encoder-decoder models (the mapper pairs one QK and one AV attention matmul per layer)."""
    model = get_model(workload["model"])
    if model.kind == "encoder-decoder":
        raise SpecError(f"model: {model.name!r} is an encoder-decoder model; the bitserial mapper pairs one "
                        "QK and one AV attention matmul per layer (allowed: decoder and encoder models)")
    p = BitserialParams(**params)
    if p.mode == "paper" and p.dram != "bandwidth":
        raise SpecError(f"bitserial: dram {p.dram!r} needs mode cycle; paper mode follows the paper's "
                        "bytes / bandwidth accounting")


def simulate(mapping, accel: AcceleratorSpec):
    """`sim.bitserial.simulate`, or for mapping `search` the nests costed by `sim.pe_array.bitserial`."""
    if mapping.strategy == "search":
        return sim.pe_array.bitserial.simulate(mapping, accel)
    return sim.bitserial.simulate(mapping, accel)


METRICS = ("latency_s", "energy_j", "area_mm2", "edp_js", "power_w", "throughput_tokens_per_s",
           "throughput_per_area", "utilization", "offchip_bytes", "energy_compute_j", "energy_sram_j",
           "energy_dram_j", "weight_bits", "vector_einsums_not_modeled", "vector_ops_not_modeled")

FAMILY = Family(
    name="bitserial",
    params=BitserialParams,
    metrics=METRICS,
    arch=arch,
    map=mappers.bitserial.map,
    simulate=simulate,
    mappings=mappers.bitserial.STRATEGIES,
    check=check,
    description="BitMoD-style PE array (sim.bitserial): matrix Einsums only, output-stationary tiling",
    fidelity="paper: analytical (max(compute, DRAM) per GEMM); cycle: cycle-level tile schedule",
)
