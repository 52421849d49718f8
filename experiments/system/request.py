"""A whole request on a heterogeneous system: a prefill of P tokens, then G decode steps.

For a request (model, prompt P, generate G, batch B):
* **prefill**: the cascade of P tokens (`phase: prefill`), placed and scheduled
  (`experiments.system.evaluate`); **TTFT** = its Result's latency (the first token comes out of
  the prefill's LM head);
* **decode**: G steps, step t at `kv_len = P + t` (t = 0 … G-1: the cache holds P + t tokens
  before the step appends one), with per-(unit, kv) costs cached; by default the first, last and
  middle steps are simulated and the others interpolated over kv where the samples prove it
  within 0.1 % (`experiments.system.decode`; `decode_mode="exact"` simulates every token).
  **TPOT** is their mean; `per_token_s` lists them (their sum is TPOT x G);
* **KV hand-off**: when a layer's prefill attention ran on another unit than the decode step's
  cache append, the prefill's K and V (P tokens) cross the route once; its time and energy are
  reported apart (`kv_handoff_s`, `kv_handoff_j`) and added to the request's latency and energy,
  not to TTFT or TPOT;
* **tokens/s** = B x G / (TTFT + hand-off + sum of the step latencies); **J/token** = the whole
  request's energy (prefill + hand-off + decode) / (B x G): G counts the tokens the decode steps
  emit (the prefill's token is the first step's input);
* **memory** per unit: the weights the Einsums placed there read (prefill and decode placements,
  each tensor once) plus the larger of the prefill's KV cache (on the unit of each layer's prefill
  attention) and the last step's cache (P + G tokens, where its appends run). A request that does
  not fit is rejected (`SpecError` naming the unit and the bytes missing) before its decode steps
  are simulated;
* **area** = the sum of the units' `area_mm2` design figures (each unit's family's area model).

Placement `search` runs once per phase: on the prefill, and on the decode step at the middle of
the generation (kv = P + G // 2, with the memory check as a constraint); that decode placement is
then applied to every step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from experiments.families import cascade_of
from experiments.schema import Workloads
from experiments.system.costs import system_costs
from experiments.system.decode import decode_steps
from experiments.system.evaluate import PhaseEval, evaluate_phase, placement_of
from mappers.system import PlacementRules, SearchOutcome, resolve
from sim.pim.area import pim_area_mm2
from sim.system.memory import kv_cache_bytes, weight_tensors
from sim.system.spec import SystemSpec
from workloads.errors import SpecError


@dataclass(frozen=True)
class Request:
    """What is asked of the system: a model, P prompt tokens, G generated tokens, B sequences."""

    model: str
    prompt: int
    generate: int
    batch: int = 1
    layers: int | None = None
    attention: str = "3pass"

    def __post_init__(self) -> None:
        if self.prompt < 1:
            raise SpecError(f"--prompt {self.prompt}: a request has at least one prompt token")
        if self.generate < 1:
            raise SpecError(f"--generate {self.generate}: a request generates at least one token")
        if self.batch < 1:
            raise SpecError(f"--batch {self.batch}: at least one sequence")

    def workload(self, phase: str, kv_len: int | None = None) -> dict:
        seq = self.prompt if phase == "prefill" else kv_len + 1
        return Workloads(models=[self.model], phases=[phase], batch=[self.batch], seq_len=[seq], kv_len=kv_len,
                         layers=self.layers, attention=self.attention).combos()[0]

    def decode_kv(self) -> range:
        return range(self.prompt, self.prompt + self.generate)


@dataclass(frozen=True)
class Memory:
    """What one unit holds: weights, KV cache, its capacity."""

    weights_bytes: float
    kv_bytes: float
    capacity_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.kv_bytes


@dataclass(frozen=True)
class RequestResult:
    """A request's figures (module docstring); `summary()` has stable keys."""

    system: SystemSpec
    request: Request
    prefill: PhaseEval
    decode: tuple[PhaseEval, ...] = field(repr=False)
    memory: dict[str, Memory]
    area_mm2: dict[str, float]
    kv_handoff_s: float = 0.0
    kv_handoff_j: float = 0.0
    decode_search: SearchOutcome | None = None

    @property
    def ttft_s(self) -> float:
        return self.prefill.result.latency_s

    @property
    def per_token_s(self) -> tuple[float, ...]:
        return tuple(d.result.latency_s for d in self.decode)

    @property
    def tpot_s(self) -> float:
        return sum(self.per_token_s) / len(self.decode)

    @property
    def latency_s(self) -> float:
        return self.ttft_s + self.kv_handoff_s + sum(self.per_token_s)

    @property
    def energy_j(self) -> float:
        return self.prefill.result.energy_j + self.kv_handoff_j + sum(d.result.energy_j for d in self.decode)

    @property
    def tokens(self) -> int:
        return self.request.batch * self.request.generate

    def units(self) -> pd.DataFrame:
        """Per unit: busy time, utilization over the request, energy, memory, capacity, area."""
        phases = [self.prefill.result, *(d.result for d in self.decode)]
        rows = []
        for u in self.system.units:
            busy = sum(r.design.get(f"busy_s_{u.name}", 0.0) for r in phases)
            energy = sum(float(r.rows.loc[r.rows["unit"] == u.name, "energy_j"].sum()) for r in phases)
            mem = self.memory[u.name]
            rows.append({"unit": u.name, "family": u.family, "busy_s": busy,
                         "utilization": busy / self.latency_s if self.latency_s > 0 else 0.0, "energy_j": energy,
                         "weights_bytes": mem.weights_bytes, "kv_bytes": mem.kv_bytes, "memory_bytes": mem.total_bytes,
                         "capacity_bytes": mem.capacity_bytes, "area_mm2": self.area_mm2.get(u.name, 0.0)})
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, float]:
        """Request-level figures with stable keys."""
        link_j = sum(float(r.rows["energy_link_j"].sum()) for r in [self.prefill.result, *(d.result for d in self.decode)])
        return {"ttft_s": self.ttft_s, "tpot_s": self.tpot_s, "decode_s": sum(self.per_token_s),
                "latency_s": self.latency_s, "tokens": float(self.tokens),
                "tokens_per_s": self.tokens / self.latency_s if self.latency_s > 0 else 0.0,
                "energy_j": self.energy_j, "j_per_token": self.energy_j / self.tokens,
                "prefill_energy_j": self.prefill.result.energy_j, "link_energy_j": link_j + self.kv_handoff_j,
                "kv_handoff_s": self.kv_handoff_s, "kv_handoff_j": self.kv_handoff_j,
                "area_mm2": float(sum(self.area_mm2.values()))}


def _layer_units(eval_: PhaseEval, group: str) -> dict:
    """layer -> the unit of the first Einsum of `group` in that layer."""
    out = {}
    for e in eval_.mapping.cascade.einsums:
        if e.group == group and e.layer not in out:
            out[e.layer] = eval_.mapping.of(e.name).unit
    return out


def _prefill_kv(prefill: PhaseEval, first_step_cascade) -> dict:
    """layer -> (unit holding the prefill's K/V, their bytes): each layer's `kv_cache` inputs of
    the first decode step (the cache of P tokens), on the unit of that layer's prefill attention."""
    att = _layer_units(prefill, "attention")
    out: dict = {}
    for e in first_step_cascade.einsums:
        if e.group != "kv_cache" or e.layer not in att:
            continue
        past = sum(first_step_cascade.tensors[a.tensor].bytes for a in e.inputs
                   if first_step_cascade.tensors[a.tensor].role == "kv_cache")
        unit, total = out.get(e.layer, (att[e.layer], 0.0))
        out[e.layer] = (unit, total + past)
    return out


def memory_of(system: SystemSpec, prefill: PhaseEval, last_cascade, last_placement: dict[str, str],
              prefill_kv: dict) -> dict[str, Memory]:
    """Per unit: weights (prefill + decode placements) and the larger of its prefill and final KV."""
    pre_units = {m.einsum: m.unit for m in prefill.mapping.einsums}
    weights = weight_tensors(prefill.mapping.cascade, pre_units)
    for unit, tensors in weight_tensors(last_cascade, last_placement).items():
        weights.setdefault(unit, {}).update(tensors)
    final_kv = kv_cache_bytes(last_cascade, last_placement)
    pre_kv: dict[str, float] = {}
    for unit, nbytes in prefill_kv.values():
        pre_kv[unit] = pre_kv.get(unit, 0.0) + nbytes
    return {u.name: Memory(float(sum(weights.get(u.name, {}).values())),
                           max(final_kv.get(u.name, 0.0), pre_kv.get(u.name, 0.0)), u.memory_bytes)
            for u in system.units}


def check_memory(memory: dict[str, Memory]) -> None:
    """`SpecError` naming the first unit whose weights and KV cache exceed its capacity."""
    for name, m in memory.items():
        if m.total_bytes > m.capacity_bytes:
            raise SpecError(f"request does not fit: unit {name} needs {m.total_bytes:.0f} bytes "
                            f"({m.weights_bytes:.0f} weights + {m.kv_bytes:.0f} KV cache) but holds "
                            f"{m.capacity_bytes:.0f}: {m.total_bytes - m.capacity_bytes:.0f} bytes missing")


def _handoff(system: SystemSpec, prefill_kv: dict, first_step: PhaseEval) -> tuple[float, float]:
    """Time (serial over layers and hops) and energy of moving each layer's prefill K/V to the unit
    of its decode cache append, where those differ."""
    dest = _layer_units(first_step, "kv_cache")
    seconds = joules = 0.0
    for layer, (src, nbytes) in prefill_kv.items():
        dst = dest.get(layer, src)
        if dst == src:
            continue
        for link, _, _ in system.route(src, dst):
            seconds += link.transfer_s(nbytes)
            joules += link.energy_j(nbytes)
    return seconds, joules


def unit_areas(system: SystemSpec, evals: list[PhaseEval]) -> dict[str, float]:
    """unit -> `area_mm2` of its design (from any phase its family ran; PIM from `sim.pim.area`
    when it refused every phase)."""
    from experiments.families import get_family
    from experiments.system.costs import check_unit

    out = {}
    for u in system.units:
        area = next((c.result.design["area_mm2"] for ev in evals if (c := ev.costs.get(u.name)) is not None
                     and c.result is not None and "area_mm2" in c.result.design), None)
        if area is None and u.family == "pim":
            area = pim_area_mm2(get_family("pim").arch(check_unit(u), {}))["area_mm2"]
        out[u.name] = float(area or 0.0)
    return out


def _decode_placement(system: SystemSpec, request: Request, placement, objective: str, fits):
    """What every decode step is placed by (a searched Mapping, or the rules), the placement of
    the last step (for the memory check) and the search's outcome (when one ran)."""
    kvs = request.decode_kv()
    last_w = request.workload("decode", kvs[-1])
    if placement == "search":
        mapping, _, outcome = placement_of(system, request.workload("decode", kvs[len(kvs) // 2]), "search",
                                           objective, fits)
        return mapping, {m.einsum: m.unit for m in mapping.einsums}, outcome
    rules = placement if isinstance(placement, PlacementRules) else None
    return placement, resolve(cascade_of(last_w), system_costs(system, last_w), system, rules), None


def run_request(system: SystemSpec, request: Request, placement: "str | PlacementRules" = "auto",
                objective: str = "latency_s", progress=None, decode_mode: str = "interpolate") -> RequestResult:
    """Evaluate the request (module docstring); `progress(done, total)` after each decode step;
    `decode_mode` "interpolate" (sampled steps, linear over kv between them) or "exact"
    (`experiments.system.decode`)."""
    prefill = evaluate_phase(system, request.workload("prefill"), placement, objective)
    kvs = request.decode_kv()
    last_c = cascade_of(request.workload("decode", kvs[-1]))
    prefill_kv = _prefill_kv(prefill, cascade_of(request.workload("decode", kvs[0])))

    def fits(p: dict[str, str]) -> bool:
        mem = memory_of(system, prefill, last_c, p, prefill_kv)
        return all(m.total_bytes <= m.capacity_bytes for m in mem.values())

    decode_placement, last_units, outcome = _decode_placement(system, request, placement, objective, fits)
    memory = memory_of(system, prefill, last_c, last_units, prefill_kv)
    check_memory(memory)
    decode = decode_steps(system, request, decode_placement, objective, decode_mode, progress=progress)
    handoff_s, handoff_j = _handoff(system, prefill_kv, decode[0])
    return RequestResult(system, request, prefill, tuple(decode), memory, unit_areas(system, [prefill, *decode[:1]]),
                         handoff_s, handoff_j, outcome)
