"""The `attention` family: a FuseMax-style spatial accelerator (Nayak et al., MICRO 2024) running
the Transformer layers of a prefill or one decode step, `sim.attention_array`.

Per layer, `sim.attention_array.model.simulate_model` (`mode: cycle`: jobs through the in-order
2D/1D-array pipeline, event-driven with a proven fast path) or `sim.attention_array.paper.paper_model`
(`mode: paper`: the FuseMax artifact's analytical accounting; designs unfused, flat and fusemax, `seq_len` a
multiple of the array's columns) gives the attention layer's cycles and energy and the layer's
linear layers (QKV, output projection, FFN) on the 2D array at max(MACs / PEs, bytes / bandwidth);
the layer is repeated `layers` times (every layer has the same shapes).

Phases and masks (cycle mode):
* prefill of a decoder model is causal: FlashAttention-2 and FuseMax skip fully masked tiles,
  FLAT and unfused compute every score (`sim.attention_array.model`, module docstring);
* decode (`simulate_decode`): one new token per sequence against `kv_len` cached keys
  (`kv_len` defaults to `seq_len − 1`); the linear layers are those of the decode step.
Paper mode follows the artifact, which has neither: it models bidirectional prefill only, so a
decoder's prefill there is costed as its encoder-form twin (same shapes, no mask) and decode is
rejected.

Area (`area_mm2` and its parts `area_2d_mm2`, `area_1d_mm2`, `area_buffer_mm2`):
`sim.attention_array.area.array_area_mm2` of the point's arrays and buffer, built of `design`'s PEs
(FuseMax's, with max units and 32-word register files in the 2D PEs, or FLAT's; unfused and
FlashAttention-2 use FLAT's), 45 nm component areas from the FuseMax artifact's Accelergy reports;
NoC, control, PHYs and DRAM are left out. The presets are not iso-area in this model (FuseMax
505.8 mm², FLAT with 32 MiB 392.8 mm²; docs/attention_array.md, Area).

Not modeled, and said so: the LM head and embeddings (not part of the layer model).
Workload datatypes are ignored: the array is fp16 throughout (`ArraySpec.bytes_per_element`).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sim import roofline
from sim.attention_array.arch import FUSEMAX, ArraySpec
from sim.attention_array.area import array_area_mm2
from sim.attention_array.model import DESIGNS, simulate_decode, simulate_model
from sim.attention_array.paper import PAPER_DESIGNS, paper_model
from workloads import get_model
from workloads.errors import SpecError

from . import Evaluation, Family, cascade_of


class AttentionParams(BaseModel):
    """Design parameters (defaults: the FuseMax artifact's cloud configuration, `arch.FUSEMAX`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    design: Literal[DESIGNS] = "fusemax"  # type: ignore[valid-type]
    array_rows: int = Field(FUSEMAX.rows_2d, gt=0, description="2D array rows")
    array_cols: int = Field(FUSEMAX.cols_2d, gt=0, description="2D array columns")
    width_1d: int = Field(FUSEMAX.width_1d, gt=0, description="1D array PEs")
    buffer_kib: int = Field(FUSEMAX.buffer_bytes // 1024, gt=0, description="global buffer, KiB")
    offchip_gib_per_s: float = Field(FUSEMAX.offchip_bytes_per_s / 2**30, gt=0, description="off-chip, GiB/s")
    clock_mhz: float = Field(FUSEMAX.clock_hz / 1e6, gt=0)
    mode: Literal["cycle", "paper"] = "cycle"

    def spec(self) -> ArraySpec:
        return replace(FUSEMAX, name="sweep", rows_2d=self.array_rows, cols_2d=self.array_cols,
                       width_1d=self.width_1d, buffer_bytes=self.buffer_kib * 1024,
                       offchip_bytes_per_s=self.offchip_gib_per_s * 2**30, clock_hz=self.clock_mhz * 1e6)


def layer_model(model: str):
    """The model as paper mode sees it: a decoder becomes its encoder-form twin (bidirectional
    attention, no LM head), the only form the artifact's accounting costs."""
    spec = get_model(model)
    return replace(spec, kind="encoder") if spec.kind == "decoder" else spec


def check(workload: dict, params: dict) -> None:
    """Reject points the array model cannot evaluate."""
    p = AttentionParams(**params)
    if workload["phase"] not in ("prefill", "decode"):
        raise SpecError(f"the attention family models prefill and decode, not {workload['phase']!r}")
    if p.mode == "paper" and workload["phase"] != "prefill":
        raise SpecError("attention paper mode models prefill only (the FuseMax artifact's "
                        "accounting); use mode: cycle for decode")
    if p.mode == "paper":
        if p.design not in PAPER_DESIGNS:
            raise SpecError(f"attention paper mode models {', '.join(PAPER_DESIGNS)}, not {p.design!r}")
        if workload["seq_len"] % p.array_cols:
            raise SpecError(f"attention paper mode needs seq_len a multiple of array_cols {p.array_cols}, "
                            f"got {workload['seq_len']}")


def evaluate(point) -> Evaluation:
    """Latency and energy of the workload's Transformer layers on the spatial array."""
    w, p = point.workload, AttentionParams(**point.params)
    check(w, point.params)
    spec = p.spec()
    model = get_model(w["model"])
    layers = w.get("layers") or model.n_layers
    if p.mode == "paper":
        r = paper_model(p.design, layer_model(w["model"]), w["seq_len"], batch=w["batch"], arch=spec)
    elif w["phase"] == "decode":
        kv_len = w["seq_len"] - 1 if w.get("kv_len") is None else w["kv_len"]
        r = simulate_decode(p.design, model.name, kv_len, batch=w["batch"], arch=spec)
    else:
        r = simulate_model(p.design, model.name, w["seq_len"], batch=w["batch"], arch=spec,
                           causal=model.kind == "decoder")
    att_s, lin_s = r.cycles / spec.clock_hz, r.linear_cycles / spec.clock_hz
    rows = []
    for layer in range(layers):
        rows.append({"einsum": f"L{layer}.attention", "group": "attention", "layer": float(layer), "cycles": float(r.cycles),
                     "latency_s": att_s, "energy_j": r.energy_pj * 1e-12,
                     "offchip_bytes": float(r.traffic_bytes)})
        rows.append({"einsum": f"L{layer}.linear", "group": "linear+vector", "layer": float(layer),
                     "cycles": float(r.linear_cycles), "latency_s": lin_s, "energy_j": r.linear_energy_pj * 1e-12,
                     "offchip_bytes": math.nan})
    latency = layers * r.end_to_end_cycles / spec.clock_hz
    energy = layers * r.end_to_end_energy_pj * 1e-12
    tokens = roofline.tokens_of(cascade_of(w).meta)
    metrics = {"latency_s": latency, "energy_j": energy, "edp_js": latency * energy,
               "power_w": energy / latency, "throughput_tokens_per_s": tokens / latency,
               "attention_latency_s": layers * att_s, "linear_latency_s": layers * lin_s,
               "attention_offchip_bytes": layers * float(r.traffic_bytes),
               "util_2d": float(r.util_2d), "util_1d": float(r.util_1d), **array_area_mm2(spec, p.design)}
    return Evaluation(metrics=metrics, rows=pd.DataFrame(rows))


FAMILY = Family(
    name="attention",
    params=AttentionParams,
    legacy_evaluate=evaluate,
    metrics=("latency_s", "energy_j", "area_mm2", "edp_js", "power_w", "throughput_tokens_per_s",
             "attention_latency_s", "linear_latency_s", "attention_offchip_bytes", "util_2d", "util_1d",
             "area_2d_mm2", "area_1d_mm2", "area_buffer_mm2"),
    mappings=("array",),
    description="FuseMax-style 2D+1D spatial array (sim.attention_array): prefill (causal for "
                "decoders) and decode Transformer layers",
    phases=("prefill", "decode"),
    fidelity="cycle: cycle-level job pipeline (attention), analytical linear layers; paper: analytical",
    check=check,
)
