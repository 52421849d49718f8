"""Scale-out: N copies of a system's unit group ("devices") joined by a device-to-device link.

The `scaleout:` block of a system YAML (`ScaleoutSpec`) says how many devices there are, how the
model is split over them — tensor parallelism T (Megatron-LM, Shoeybi et al. 2019) times
pipeline parallelism P, T x P = N — which units form the replicated device (`group`, default all)
and the link that joins the devices (CXL-like: bandwidth per direction, latency per transfer,
energy per bit, topology `ring` or `switch`, each cited).

What this module computes, purely (no family is called here; `experiments.system.scaleout`
evaluates the per-device shard on the device's units and composes the request):

* `shard_model(model, T)`: the ModelSpec one tensor-parallel device runs. Megatron's split keeps
  d_model: Q/K/V and FC1 (gate and up) split by output columns, O-proj and FC2 (down) by input
  rows, so a device holds n_heads / T query heads, d_ff / T of the MLP and (VocabParallelEmbedding
  and the column-parallel LM head) ceil(vocab / T) rows of the embedding and columns of the head.
  KV heads: n_kv / T when T divides them; when n_kv < T (GQA, e.g. LLaMA-2-70B's 8 KV heads over
  32 devices) each device keeps the one KV head its query heads read (replicated T / n_kv times,
  as Megatron does). Norms (and biases after a row-parallel matrix) are replicated.
* the collectives that split costs: per layer two all-reduces of the residual stream (after the
  O-proj and after FC2, each of B x q x d_model activations), one after the embedding (the
  vocab-parallel lookup), and an all-gather of the logits after the LM head;
* `ring_allreduce_s`: the ring all-reduce (reduce-scatter then all-gather; Patarasuk & Yuan, JPDC
  2009; Thakur, Rabenseifner & Gropp, IJHPCA 2005): 2 (T-1) steps, each sending n / T bytes to the
  next device: 2 (T-1)/T x n / bandwidth + 2 (T-1) x latency; over the wire 2 (T-1) x n bytes in
  all (each of the T devices sends 2 (T-1)/T x n). The all-gather is half of it: (T-1) steps;
* `stage_layers(L, P)`: the layers of each pipeline stage (balanced; the first L mod P stages one
  more). A single sequence gains nothing from pipelining: its step runs stage after stage, so a
  phase's latency is the sum of the stage latencies plus P-1 activation transfers (one hop each).

Topology: on a `ring` each device links to the next; on a `switch` every device has a port on a
switch (CXL 2.0/3.0 switching) and the ring all-reduce runs over the switch, one hop per step;
either way a step crosses one link of `bandwidth_bytes_per_s` and `latency_s` (for a switch: the
switch traversal included), so the formulas are the same and the topology is recorded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workloads.errors import SpecError
from workloads.models import ModelSpec

TOPOLOGIES = ("ring", "switch")


def cited(text: str) -> str:
    if not str(text).strip():
        raise ValueError("every number cites where it comes from (a paper, a standard, or 'assumption: ...')")
    return text


class Wire:
    """What a link costs per transfer: `latency_s + bytes / bandwidth` and `bytes x 8 x pJ/bit`
    (shared by the device link here and `sim.system.spec.LinkSpec`, which declare the fields)."""

    def transfer_s(self, nbytes: float) -> float:
        return self.latency_s + nbytes / self.bandwidth_bytes_per_s

    def energy_j(self, nbytes: float) -> float:
        return nbytes * 8 * self.energy_pj_per_bit * 1e-12


class DeviceLinkSpec(Wire, BaseModel):
    """The device-to-device link (per direction; one transfer at a time per direction)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bandwidth_bytes_per_s: float = Field(gt=0, description="per direction, per device port")
    latency_s: float = Field(ge=0, description="per transfer (one hop, a switch traversal included)")
    energy_pj_per_bit: float = Field(ge=0)
    topology: Literal[TOPOLOGIES] = "switch"  # type: ignore[valid-type]
    source: str

    _source = field_validator("source")(cited)


class ScaleoutSpec(BaseModel):
    """`devices` copies of the unit `group`, split T (tensor) x P (pipeline) ways."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    devices: int = Field(ge=1)
    tensor_parallel: int = Field(1, ge=1)
    pipeline_parallel: int = Field(1, ge=1)
    group: tuple[str, ...] | None = None  # the units one device holds; None: all of them
    link: DeviceLinkSpec | None = None  # required when devices > 1
    source: str

    _source = field_validator("source")(cited)

    @model_validator(mode="after")
    def _split(self):
        if self.tensor_parallel * self.pipeline_parallel != self.devices:
            raise ValueError(f"tensor_parallel {self.tensor_parallel} x pipeline_parallel "
                             f"{self.pipeline_parallel} must equal devices {self.devices}")
        if self.devices > 1 and self.link is None:
            raise ValueError(f"{self.devices} devices need a device-to-device link (link: bandwidth_bytes_per_s, "
                             "latency_s, energy_pj_per_bit, topology, source)")
        return self

    @property
    def tp(self) -> int:
        return self.tensor_parallel

    @property
    def pp(self) -> int:
        return self.pipeline_parallel

    def device_of(self, stage: int, rank: int) -> int:
        """Device number of tensor-parallel `rank` in pipeline `stage` (stage-major)."""
        return stage * self.tensor_parallel + rank


def kv_heads_per_device(model: ModelSpec, tp: int) -> int:
    """KV heads one device holds (module docstring); `SpecError` when the heads do not split."""
    kv = model.kv_heads
    if kv % tp == 0:
        return kv // tp
    if tp % kv == 0:
        return 1
    raise SpecError(f"tensor_parallel {tp}: {model.name}'s {kv} KV heads neither split over {tp} devices nor "
                    f"divide {tp} (allowed: a divisor or a multiple of {kv})")


def shard_model(model: ModelSpec, tp: int) -> ModelSpec:
    """The ModelSpec one of `tp` tensor-parallel devices runs (module docstring); `tp` 1: `model`."""
    if tp == 1:
        return model
    if model.n_heads % tp:
        raise SpecError(f"tensor_parallel {tp}: {model.name}'s {model.n_heads} attention heads do not split "
                        f"over {tp} devices")
    if model.d_ff % tp:
        raise SpecError(f"tensor_parallel {tp}: {model.name}'s d_ff {model.d_ff} does not split over {tp} devices")
    if model.kind != "decoder":
        raise SpecError(f"tensor_parallel {tp}: scale-out models decoder models, not {model.kind} {model.name}")
    kv = kv_heads_per_device(model, tp)
    return replace(model, name=f"{model.name}/tp{tp}", n_heads=model.n_heads // tp, n_kv_heads=kv,
                   d_ff=model.d_ff // tp, vocab_size=math.ceil(model.vocab_size / tp), published_params=None,
                   source=f"1/{tp} tensor-parallel shard (Megatron-LM split) of {model.name}: {model.source}")


def stage_layers(n_layers: int, pp: int) -> tuple[int, ...]:
    """Layers per pipeline stage: balanced, the first `n_layers mod pp` stages one more."""
    if pp > n_layers:
        raise SpecError(f"pipeline_parallel {pp}: the model has only {n_layers} layers to split")
    q, r = divmod(n_layers, pp)
    return tuple(q + 1 if s < r else q for s in range(pp))


def ring_allreduce_s(nbytes: float, tp: int, link: DeviceLinkSpec | None) -> float:
    """Ring all-reduce of `nbytes` over `tp` devices: 2(T-1)/T n/bw + 2(T-1) latency (0 for T = 1)."""
    if tp == 1:
        return 0.0
    return 2 * (tp - 1) / tp * nbytes / link.bandwidth_bytes_per_s + 2 * (tp - 1) * link.latency_s


def ring_allgather_s(nbytes: float, tp: int, link: DeviceLinkSpec | None) -> float:
    """Ring all-gather of a `nbytes` result (each device holds n/T): (T-1)/T n/bw + (T-1) latency."""
    if tp == 1:
        return 0.0
    return (tp - 1) / tp * nbytes / link.bandwidth_bytes_per_s + (tp - 1) * link.latency_s


def allreduce_wire_bytes(nbytes: float, tp: int) -> float:
    """Bytes all `tp` devices send in a ring all-reduce of `nbytes`: 2 (T-1) n."""
    return 2 * (tp - 1) * nbytes


def allgather_wire_bytes(nbytes: float, tp: int) -> float:
    """Bytes all `tp` devices send in a ring all-gather of an `nbytes` result: (T-1) n."""
    return (tp - 1) * nbytes


@dataclass(frozen=True)
class Comm:
    """One phase's collective traffic on one pipeline stage (per tensor-parallel group)."""

    allreduces: int = 0
    allreduce_bytes: float = 0.0  # the message of one all-reduce (B x q x d_model activations)
    allgather_bytes: float = 0.0  # the logits gathered after the LM head (0 when the stage has none)
    time_s: float = 0.0
    wire_bytes: float = 0.0
    energy_j: float = 0.0


def stage_comm(layers: int, first: bool, last: bool, act_bytes: float, logits_bytes: float, tp: int,
               link: DeviceLinkSpec | None) -> Comm:
    """Two all-reduces per layer, one after the embedding (first stage), the logits all-gather
    (last stage), for a stage of `layers` layers; zero for `tp` 1."""
    if tp == 1:
        return Comm()
    n = 2 * layers + (1 if first else 0)
    gather = logits_bytes if last else 0.0
    time = n * ring_allreduce_s(act_bytes, tp, link) + (ring_allgather_s(gather, tp, link) if gather else 0.0)
    wire = n * allreduce_wire_bytes(act_bytes, tp) + allgather_wire_bytes(gather, tp)
    return Comm(n, act_bytes, gather, time, wire, link.energy_j(wire))


def device_system(system):
    """One device: the system's `scaleout.group` units (all when none is named) and the links
    among them, the host kept when it is in the group; no `scaleout` (a `SystemSpec`)."""
    so = system.scaleout
    if so is None or so.group is None:
        return system.model_copy(update={"scaleout": None})
    keep = set(so.group)
    units = tuple(u for u in system.units if u.name in keep)
    links = tuple(lk for lk in system.links if set(lk.between) <= keep)
    host = system.host if system.host in keep else None
    return type(system)(name=f"{system.name}/device", units=units, links=links, host=host, source=system.source)
