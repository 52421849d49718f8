"""The `attention` family: a FuseMax-style spatial accelerator (Nayak et al., MICRO 2024) running
the Transformer layers of a prefill or one decode step (`sim.attention_array`).

The contract (`sim.contract`): `arch` builds the point's `ArraySpec`; `mappers.attention.map`
reads every layer's attention shape from the lowered cascade (heads, K/V heads, head dimension,
query and key lengths, batch, causal mask: any zoo model, GQA, prefill or decode) and plans it with
the design; `sim.attention_array.simulate` returns one row per Einsum of the cascade. The design
(dataflow) is the point's mapping — `fusemax` (default), `flashattention2`, `flat`, `unfused` — or
the `design` parameter, which overrides the mapping when given (so a sweep can cross designs).

`mode: cycle`: each layer's attention is jobs through the in-order 2D/1D-array pipeline
(event-driven with a proven fast path); a decoder's prefill is causal (FlashAttention-2 and
FuseMax skip fully masked tiles, FLAT and unfused compute every score); a decode step is one new
token per sequence over the cache. The layer's other Einsums run on the 2D array at
max(MACs / PEs, bytes / bandwidth) and on the 1D array (`sim.attention_array.linear`).
`mode: paper`: the FuseMax artifact's analytical accounting (designs unfused, flat and fusemax;
bidirectional prefill only — a decoder's prefill is costed without its mask — with `seq_len` a
multiple of the array's columns); the linear layers' MACs are the cascade's.

Area (`area_mm2` and its parts `area_2d_mm2`, `area_1d_mm2`, `area_buffer_mm2`) and the attention
layer's `util_2d`/`util_1d` are `Result.design`: `sim.attention_array.area.array_area_mm2` of the
point's arrays and buffer built of the design's PEs (45 nm, FuseMax artifact's Accelergy reports;
NoC, control, PHYs and DRAM left out; the presets are not iso-area: docs/attention_array.md).

Not modeled, and said so (rows with `modeled` False and zero cost): the Einsums outside the
Transformer layers — embeddings, final norm, LM head. Workload datatypes are ignored: the array is
fp16 throughout (`ArraySpec.bytes_per_element`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

import mappers.attention
import sim.attention_array
from sim.attention_array.arch import FUSEMAX, ArraySpec
from sim.attention_array.dataflows import DESIGNS, PAPER_DESIGNS
from sim.contract import Result
from workloads.errors import SpecError

from . import Family

# The point's mapping names the design; fusemax first: the default.
MAPPINGS = ("fusemax",) + tuple(d for d in DESIGNS if d != "fusemax")


class AttentionParams(BaseModel):
    """Design parameters (defaults: the FuseMax artifact's cloud configuration, `arch.FUSEMAX`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    design: Optional[Literal[DESIGNS]] = Field(  # type: ignore[valid-type]
        None, description="dataflow; overrides the point's mapping when given")
    array_rows: int = Field(FUSEMAX.rows_2d, gt=0, description="2D array rows")
    array_cols: int = Field(FUSEMAX.cols_2d, gt=0, description="2D array columns")
    width_1d: int = Field(FUSEMAX.width_1d, gt=0, description="1D array PEs")
    buffer_kib: int = Field(FUSEMAX.buffer_bytes // 1024, gt=0, description="global buffer, KiB")
    # FuseMax: one 512-B row per cycle; FLAT's iso-area preset (arch.FLAT): four ports, 2048 B per cycle
    buffer_bytes_per_cycle: int = Field(FUSEMAX.buffer_bytes_per_cycle, gt=0,
                                        description="global buffer bandwidth, bytes per cycle")
    offchip_gib_per_s: float = Field(FUSEMAX.offchip_bytes_per_s / 2**30, gt=0, description="off-chip, GiB/s")
    clock_mhz: float = Field(FUSEMAX.clock_hz / 1e6, gt=0)
    mode: Literal["cycle", "paper"] = "cycle"

    def spec(self) -> ArraySpec:
        return replace(FUSEMAX, name="sweep", rows_2d=self.array_rows, cols_2d=self.array_cols,
                       width_1d=self.width_1d, buffer_bytes=self.buffer_kib * 1024,
                       buffer_bytes_per_cycle=self.buffer_bytes_per_cycle,
                       offchip_bytes_per_s=self.offchip_gib_per_s * 2**30, clock_hz=self.clock_mhz * 1e6)


def arch(params: AttentionParams, workload: dict) -> ArraySpec:
    return params.spec()


def check(workload: dict, params: dict) -> None:
    """Reject points the array model cannot evaluate (before any worker starts)."""
    p = AttentionParams(**params)
    if workload["phase"] not in ("prefill", "decode"):
        raise SpecError(f"the attention family models prefill and decode, not {workload['phase']!r}")
    if p.mode != "paper":
        return
    if workload["phase"] != "prefill":
        raise SpecError("attention paper mode models prefill only (the FuseMax artifact's "
                        "accounting); use mode: cycle for decode")
    if p.design is not None and p.design not in PAPER_DESIGNS:
        raise SpecError(f"attention paper mode models {', '.join(PAPER_DESIGNS)}, not {p.design!r}")
    if workload["seq_len"] % p.array_cols:
        raise SpecError(f"attention paper mode needs seq_len a multiple of array_cols {p.array_cols}, "
                        f"got {workload['seq_len']}")


@dataclass(frozen=True)
class AttentionFamily(Family):
    """`Family` whose `design` parameter, when given, replaces the point's mapping."""

    def result(self, point) -> Result:
        design = point.params.get("design")
        if design is not None and design != point.mapping:
            point = replace(point, mapping=design)
        return super().result(point)


FAMILY = AttentionFamily(
    name="attention",
    params=AttentionParams,
    metrics=("latency_s", "energy_j", "area_mm2", "edp_js", "power_w", "throughput_tokens_per_s",
             "util_2d", "util_1d", "area_2d_mm2", "area_1d_mm2", "area_buffer_mm2", "offchip_bytes",
             "energy_dram_j"),
    arch=arch,
    map=mappers.attention.map,
    simulate=sim.attention_array.simulate,
    mappings=MAPPINGS,
    description="FuseMax-style 2D+1D spatial array (sim.attention_array): prefill (causal for "
                "decoders) and decode Transformer layers; mapping = dataflow",
    phases=("prefill", "decode"),
    fidelity="cycle: cycle-level job pipeline (attention), analytical linear layers; paper: analytical",
    check=check,
)
