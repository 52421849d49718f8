"""A request on a scaled-out system: N devices (copies of a unit group), tensor x pipeline parallel.

`sim.system.scaleout` says what is split and what the collectives cost; here each pipeline stage's
per-device shard is evaluated as a request on one device (`experiments.system.request.run_request`
on the device's units: the shard model of `shard_model(model, T)` lowered with the stage's layer
count, placed, list-scheduled, every decode step simulated), and the request is composed:

* a stage's share of a phase: the exposed latency and energy of its rows — its layers' rows, plus
  the embedding's rows on the first stage and the final norm's and LM head's on the last (a stage
  run lowers the embedding and head with its layers; the rows are partitioned, not re-simulated);
* a phase's latency = sum over stages of (stage latency + its all-reduces and all-gather on the
  device link) + (P-1) activation transfers of B x q x d_model (q = P tokens in a prefill, 1 in a
  decode step). A single sequence gains nothing from pipelining (its step runs stage after
  stage); `pipelined_tokens_per_s` is the steady-state bound with P micro-batches of B sequences
  in flight: B / (the slowest stage's decode time incl. its collectives and hand-off), fill and
  drain ignored;
* energy = T x each stage's per-device energy + the collectives' wire bytes x pJ/bit + the stage
  hand-offs; the prefill KV hand-off inside a device (as in `run_request`) counts per stage, its
  energy T times;
* memory per device: the stage run's memory per unit less the embedding / head weights the stage
  does not hold; all T devices of a stage hold the same. A device that does not fit is rejected
  naming it, its unit and the bytes missing (after the stage runs; the stage runs themselves
  are evaluated with unbounded capacity, so `--placement search` is not memory-constrained here).

T = P = 1 is `run_request` on the unscaled system, exactly (tested).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from experiments.schema import Workloads
from experiments.system.request import Request, RequestResult, run_request
from sim.system.scaleout import (Comm, DeviceLinkSpec, ScaleoutSpec, device_system, shard_model, stage_comm,
                                 stage_layers)
from sim.system.spec import SystemSpec
from workloads.errors import SpecError
from workloads.hf_config import spec_from_config
from workloads.models import ModelSpec, get_model

# meta-llama/Llama-2-70b-hf config.json (Hugging Face, July 2023; Touvron et al. 2023, Table 1).
LLAMA_2_70B_CONFIG = {
    "model_type": "llama", "hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64,
    "num_hidden_layers": 80, "num_key_value_heads": 8, "max_position_embeddings": 4096, "rms_norm_eps": 1e-05,
    "vocab_size": 32000, "hidden_act": "silu", "tie_word_embeddings": False, "rope_theta": 10000.0,
}
# Models scale-out runs that are not in the zoo (the zoo is another module's).
MODELS = {"llama-2-70b": dataclasses.replace(
    spec_from_config(LLAMA_2_70B_CONFIG, "llama-2-70b", "meta-llama/Llama-2-70b-hf config.json"),
    published_params=68_976_648_192, params_exact=True,
    source="meta-llama/Llama-2-70b-hf config.json (80 layers, d_model 8192, 64 heads, 8 KV heads, d_ff 28672, "
           "vocab 32000); Touvron et al. 2023, Llama 2, Table 1; 68,976,648,192 parameters in the checkpoint")}

# CXL 2.0 x16 on PCIe 5.0 signalling: 32 GT/s x 16 lanes x 128/130 / 8 = 63 GB/s per direction.
CXL_LINK = DeviceLinkSpec(
    bandwidth_bytes_per_s=6.3e10, latency_s=5.0e-07, energy_pj_per_bit=10.0, topology="switch",
    source="CXL 2.0 (PCIe 5.0 PHY: 32 GT/s per lane, x16, 128b/130b) = 63 GB/s per direction; assumption: 500 ns "
           "per transfer through a CXL switch (port-to-port plus the device's controller); assumption: 10 pJ/bit "
           "for PCIe 5.0 SerDes (as the fusemax-dram preset's PCIe link)")
UNBOUNDED = 1e30  # capacity the stage runs are evaluated with (the real check is per device, after)


def resolve_model(name: str | ModelSpec) -> ModelSpec:
    """A scale-out model (`MODELS`, e.g. llama-2-70b) or anything `workloads.get_model` resolves."""
    if isinstance(name, str) and name.lower() in MODELS:
        return MODELS[name.lower()]
    return get_model(name)


@dataclass(frozen=True)
class ShardRequest(Request):
    """A `Request` whose workloads carry a ModelSpec (a shard, or a model outside the zoo)."""

    shard: ModelSpec | None = None

    def workload(self, phase: str, kv_len: int | None = None) -> dict:
        if self.shard is None:
            return super().workload(phase, kv_len)
        seq = self.prompt if phase == "prefill" else kv_len + 1
        return Workloads.model_construct(models=[self.shard], phases=[phase], batch=[self.batch], seq_len=[seq],
                                         kv_len=kv_len, layers=self.layers, attention=self.attention).combos()[0]


def with_scaleout(system: SystemSpec, devices: int | None = None, tp: int | None = None,
                  pp: int | None = None) -> SystemSpec:
    """The system with its `scaleout` block overridden by `--devices/--tp/--pp` (a system without
    one gets the CXL 2.0 link `CXL_LINK`); unspecified figures follow from the others."""
    so = system.scaleout
    t0, p0 = (so.tp, so.pp) if so is not None else (1, 1)
    if devices is None and tp is None and pp is None:
        return system
    t = tp if tp is not None else (devices // (pp or p0) if devices is not None else t0)
    p = pp if pp is not None else (devices // t if devices is not None and t else p0)
    n = devices if devices is not None else t * p
    base = {"link": CXL_LINK, "source": "--devices/--tp/--pp on the command line; link: CXL_LINK"} if so is None \
        else so.model_dump(exclude={"devices", "tensor_parallel", "pipeline_parallel"})
    try:
        new = ScaleoutSpec(**{**base, "devices": n, "tensor_parallel": max(t, 1), "pipeline_parallel": max(p, 1)})
    except Exception as err:  # pydantic's ValidationError: one line
        first = getattr(err, "errors", lambda: [{"msg": str(err)}])()[0]["msg"]
        raise SpecError(f"--devices {devices} --tp {tp} --pp {pp}: {first}") from None
    return system.model_copy(update={"scaleout": new})


@dataclass(frozen=True)
class Stage:
    """One pipeline stage: its layers, its run (one device's shard), its collectives per phase."""

    index: int
    layers: int
    first: bool
    last: bool
    run: RequestResult = field(repr=False)
    comm: tuple[Comm, ...] = field(repr=False)  # prefill, then each decode step

    def _parts(self, cascade) -> dict[str, bool]:
        """einsum -> whether the stage runs it (module docstring)."""
        seen_layer, out = False, {}
        for e in cascade.einsums:
            if e.layer is not None:
                seen_layer = True
                out[e.name] = True
            else:
                out[e.name] = self.last if seen_layer else self.first
        return out

    def share(self, phase) -> tuple[float, float]:
        """(latency, energy per device) of the stage's rows in a `PhaseEval`."""
        res = phase.result
        if self.first and self.last:
            return res.latency_s, res.energy_j
        parts = self._parts(phase.mapping.cascade)
        mask = res.rows["einsum"].map(parts).astype(bool)
        return float(res.rows.loc[mask, "latency_s"].sum()), float(res.rows.loc[mask, "energy_j"].sum())

    def phases(self):
        return (self.run.prefill, *self.run.decode)

    def stage_weights_dropped(self) -> dict[str, float]:
        """unit -> bytes of the embedding / head weights the stage run holds but the stage does not."""
        phases = (self.run.prefill, self.run.decode[-1])
        held: dict[str, dict[str, float]] = {}
        kept: dict[str, set] = {}
        for ph in phases:
            cascade, parts = ph.mapping.cascade, self._parts(ph.mapping.cascade)
            for e in cascade.einsums:
                if e.layer is not None:
                    continue
                unit = ph.mapping.of(e.name).unit
                for acc in e.inputs:
                    spec = cascade.tensors[acc.tensor]
                    if spec.role == "weight":
                        held.setdefault(unit, {})[spec.name] = spec.bytes
                        if parts[e.name]:
                            kept.setdefault(unit, set()).add(spec.name)
        return {u: float(sum(b for name, b in t.items() if name not in kept.get(u, set()))) for u, t in held.items()}

    def memory(self, system: SystemSpec) -> dict[str, dict[str, float]]:
        """unit -> weights, KV cache, total and capacity bytes on each device of this stage."""
        dropped = self.stage_weights_dropped()
        out = {}
        for u in system.units:
            m = self.run.memory[u.name]
            weights = m.weights_bytes - dropped.get(u.name, 0.0)
            out[u.name] = {"weights_bytes": weights, "kv_bytes": m.kv_bytes, "memory_bytes": weights + m.kv_bytes,
                           "capacity_bytes": u.memory_bytes}
        return out


def _act_bytes(cascade) -> float:
    """Bytes of the residual stream a stage hands on and an all-reduce sums: B x q x d_model."""
    for e in cascade.einsums:
        if e.group == "proj":
            return float(cascade.tensors[e.output.tensor].bytes)
    raise SpecError("scale-out: the cascade has no output projection to size the all-reduce by")


def _logits_bytes(cascade, tp: int) -> float:
    """Bytes of the whole logits the last stage all-gathers (T shards of the device's LOGITS)."""
    return float(cascade.tensors["LOGITS"].bytes) * tp if "LOGITS" in cascade.tensors else 0.0


def _stage_comm(so: ScaleoutSpec, layers: int, first: bool, last: bool, phase) -> Comm:
    cascade = phase.mapping.cascade
    return stage_comm(layers, first, last, _act_bytes(cascade), _logits_bytes(cascade, so.tp), so.tp, so.link)


def _unbounded(system: SystemSpec) -> SystemSpec:
    units = tuple(u.model_copy(update={"memory_bytes": UNBOUNDED}) for u in system.units)
    return system.model_copy(update={"units": units})


def _stages(system: SystemSpec, so: ScaleoutSpec, request: Request, placement, objective, progress) -> list[Stage]:
    """Each stage evaluated (one run per distinct layer count)."""
    model = resolve_model(request.model)
    if request.layers is not None:
        if request.layers > model.n_layers:
            raise SpecError(f"layers {request.layers}: {model.name} has {model.n_layers} layers")
        model = dataclasses.replace(model, n_layers=request.layers)
    shard = shard_model(model, so.tp)
    plain = so.tp == 1 and so.pp == 1 and isinstance(request.model, str) and request.model.lower() not in MODELS
    device = _unbounded(device_system(system))
    sizes = stage_layers(model.n_layers, so.pp)
    runs: dict[int, RequestResult] = {}
    for k in sizes:
        if k not in runs:
            layers = request.layers if so.pp == 1 else k
            req = ShardRequest(request.model, request.prompt, request.generate, request.batch, layers,
                               request.attention, shard=None if plain else shard)
            runs[k] = run_request(device, req, placement, objective, progress)
    stages = []
    for s, k in enumerate(sizes):
        first, last, run = s == 0, s == so.pp - 1, runs[k]
        comm = tuple(_stage_comm(so, k, first, last, ph) for ph in (run.prefill, *run.decode))
        stages.append(Stage(s, k, first, last, run, comm))
    return stages


@dataclass(frozen=True)
class ScaledResult:
    """A request's figures on a scaled-out system (module docstring); `summary()` has stable keys."""

    system: SystemSpec
    scaleout: ScaleoutSpec
    request: Request
    stages: tuple[Stage, ...]
    device: SystemSpec = field(repr=False)

    def _phase(self, i: int) -> tuple[float, float, float]:
        """(latency, energy, collective seconds) of phase i (0: prefill, 1 …: decode steps)."""
        so, lat, energy, comm_s = self.scaleout, 0.0, 0.0, 0.0
        for st in self.stages:
            s_lat, s_j = st.share(st.phases()[i])
            c = st.comm[i]
            lat, energy, comm_s = lat + s_lat + c.time_s, energy + so.tp * s_j + c.energy_j, comm_s + c.time_s
        if so.pp > 1:
            act = _act_bytes(self.stages[0].phases()[i].mapping.cascade)
            lat += (so.pp - 1) * so.link.transfer_s(act)
            energy += (so.pp - 1) * so.tp * so.link.energy_j(act)
            comm_s += (so.pp - 1) * so.link.transfer_s(act)
        return lat, energy, comm_s

    @property
    def ttft_s(self) -> float:
        return self._phase(0)[0]

    @property
    def per_token_s(self) -> tuple[float, ...]:
        return tuple(self._phase(i)[0] for i in range(1, self.request.generate + 1))

    @property
    def tpot_s(self) -> float:
        return sum(self.per_token_s) / self.request.generate

    @property
    def kv_handoff_s(self) -> float:
        return sum(st.run.kv_handoff_s for st in self.stages)

    @property
    def energy_j(self) -> float:
        handoff = self.scaleout.tp * sum(st.run.kv_handoff_j for st in self.stages)
        return self._phase(0)[1] + handoff + sum(self._phase(i)[1] for i in range(1, self.request.generate + 1))

    @property
    def latency_s(self) -> float:
        return self.ttft_s + self.kv_handoff_s + sum(self.per_token_s)

    def devices(self) -> list[dict]:
        """One row per device: its stage, rank, layers and memory per unit (all ranks of a stage alike)."""
        rows = []
        for st in self.stages:
            mem = st.memory(self.device)
            for rank in range(self.scaleout.tp):
                row = {"device": self.scaleout.device_of(st.index, rank), "stage": st.index, "rank": rank,
                       "layers": st.layers, "memory_bytes": sum(m["memory_bytes"] for m in mem.values())}
                for unit, m in mem.items():
                    row.update({f"{k}_{unit}": v for k, v in m.items()})
                rows.append(row)
        return rows

    def check_memory(self) -> None:
        """`SpecError` naming the first device (and unit) whose shard does not fit."""
        for st in self.stages:
            for unit, m in st.memory(self.device).items():
                if m["memory_bytes"] > m["capacity_bytes"]:
                    dev = self.scaleout.device_of(st.index, 0)
                    alike = f", like the other {self.scaleout.tp - 1} of its stage" if self.scaleout.tp > 1 else ""
                    raise SpecError(
                        f"request does not fit: device {dev} (pipeline stage {st.index} of {self.scaleout.pp}, "
                        f"{st.layers} layers{alike}): unit {unit} needs {m['memory_bytes']:.0f} bytes "
                        f"({m['weights_bytes']:.0f} weights + {m['kv_bytes']:.0f} KV cache) but holds "
                        f"{m['capacity_bytes']:.0f}: {m['memory_bytes'] - m['capacity_bytes']:.0f} bytes missing")

    def summary(self) -> dict[str, float]:
        """Request-level figures with stable keys (those of `RequestResult.summary` that apply, plus
        the scale-out's)."""
        so, req = self.scaleout, self.request
        tokens = req.batch * req.generate
        decode_comm = [self._phase(i)[2] for i in range(1, req.generate + 1)]
        slowest = max(sum(st.share(st.phases()[i])[0] + st.comm[i].time_s for i in range(1, req.generate + 1))
                      / req.generate for st in self.stages)
        devices = self.devices()
        return {"ttft_s": self.ttft_s, "tpot_s": self.tpot_s, "decode_s": sum(self.per_token_s),
                "latency_s": self.latency_s, "tokens": float(tokens),
                "tokens_per_s": tokens / self.latency_s if self.latency_s > 0 else 0.0,
                "pipelined_tokens_per_s": req.batch / slowest if slowest > 0 else 0.0,
                "energy_j": self.energy_j, "j_per_token": self.energy_j / tokens,
                "kv_handoff_s": self.kv_handoff_s, "devices": float(so.devices), "tensor_parallel": float(so.tp),
                "pipeline_parallel": float(so.pp), "collective_s_per_token": sum(decode_comm) / req.generate,
                "allreduce_bytes_decode": self.stages[0].comm[1].allreduce_bytes,
                "max_device_memory_bytes": max(d["memory_bytes"] for d in devices),
                "area_mm2": so.devices * float(sum(self.stages[0].run.area_mm2.values()))}


def run_scaled(system: SystemSpec, request: Request, placement="auto", objective: str = "latency_s",
               progress=None) -> ScaledResult:
    """Evaluate the request on the system's scale-out (a system without a `scaleout` block: one
    device); `SpecError` when a device's shard does not fit."""
    so = system.scaleout or ScaleoutSpec(devices=1, source="one device (no scaleout block)")
    stages = _stages(system, so, request, placement, objective, progress)
    res = ScaledResult(system, so, request, tuple(stages), device_system(system))
    res.check_memory()
    return res


def document(res: ScaledResult, placement: str, wall_s: float) -> dict:
    """The JSON document of a scaled request (stable keys)."""
    req, so = res.request, res.scaleout
    return {"system": res.system.name, "model": req.model, "prompt": req.prompt, "generate": req.generate,
            "batch": req.batch, "layers": req.layers, "placement": placement,
            "scaleout": {"devices": so.devices, "tensor_parallel": so.tp, "pipeline_parallel": so.pp,
                         "group": list(so.group or res.device.unit_names),
                         "link": so.link.model_dump() if so.link is not None else None,
                         "stage_layers": [st.layers for st in res.stages]},
            "summary": res.summary(), "per_token_s": list(res.per_token_s), "devices": res.devices(),
            "wall_s": wall_s}


def table(res: ScaledResult, placement: str, wall_s: float) -> str:
    """The text report of a scaled request: per stage and unit memory, then the request's figures."""
    req, so, s = res.request, res.scaleout, res.summary()
    gib = 2**30
    link = (f", link {so.link.bandwidth_bytes_per_s / 1e9:.1f} GB/s {so.link.latency_s * 1e9:.0f} ns "
            f"{so.link.energy_pj_per_bit} pJ/bit ({so.link.topology})") if so.link is not None else ""
    lines = [f"system {res.system.name}: {req.model}, prompt {req.prompt}, generate {req.generate}, batch {req.batch}"
             f"{f', layers {req.layers}' if req.layers else ''} (placement {placement})",
             f"  scale-out: {so.devices} devices = TP {so.tp} x PP {so.pp} of [{', '.join(res.device.unit_names)}]{link}",
             f"  {'stage':<6} {'devices':<10} {'layers':>6} {'unit':<8} {'weights GiB':>12} {'KV GiB':>9} "
             f"{'capacity GiB':>13}"]
    for st in res.stages:
        first = so.device_of(st.index, 0)
        for unit, m in st.memory(res.device).items():
            lines.append(f"  {st.index:<6} {f'{first}-{first + so.tp - 1}':<10} {st.layers:>6} {unit:<8} "
                         f"{m['weights_bytes'] / gib:>12.3f} {m['kv_bytes'] / gib:>9.3f} {m['capacity_bytes'] / gib:>13.3f}")
    lines += [f"  TTFT        {s['ttft_s'] * 1e3:.4f} ms",
              f"  TPOT        {s['tpot_s'] * 1e3:.4f} ms (mean of {req.generate} steps; collectives "
              f"{s['collective_s_per_token'] * 1e3:.4f} ms of it)",
              f"  tokens/s    {s['tokens_per_s']:.2f} (one request; {s['pipelined_tokens_per_s']:.2f} with "
              f"{so.pp} micro-batch{'es' if so.pp > 1 else ''} in the pipeline)",
              f"  J/token     {s['j_per_token']:.6g}",
              f"  energy      {s['energy_j']:.6g} J",
              f"  memory      {s['max_device_memory_bytes'] / gib:.3f} GiB on the fullest device (all its units)",
              f"  area        {s['area_mm2']:.2f} mm2 ({so.devices} devices)",
              f"  wall time   {wall_s:.2f} s"]
    return "\n".join(lines)



def wanted(system: SystemSpec, model: str, devices, tp, pp) -> bool:
    """Whether `einspace system` takes the scale-out path: a `scaleout` block, --devices/--tp/--pp,
    or a model only scale-out knows (llama-2-70b)."""
    return (system.scaleout is not None or any(v is not None for v in (devices, tp, pp))
            or model.lower() in MODELS)


def _rules(placement: str):
    from pathlib import Path

    from mappers.system import load_rules

    if placement in ("auto", "search"):
        return placement
    if not Path(placement).is_file():
        raise SpecError(f"--placement {placement!r}: not auto, search or a placement file")
    return load_rules(Path(placement))


def cli(system: SystemSpec, request: Request, placement: str, objective: str, fmt: str) -> None:
    """`einspace system` on the scale-out path: run, then print the table or the JSON document."""
    import json
    import time

    import click

    start = time.perf_counter()
    res = run_scaled(system, request, _rules(placement), objective)
    wall = time.perf_counter() - start
    if fmt == "json":
        click.echo(json.dumps(document(res, placement, wall), indent=2, sort_keys=True))
    else:
        click.echo(table(res, placement, wall))


def options(command):
    """Decorates the `einspace system` callback with --devices/--tp/--pp: when `wanted`, the request
    runs scaled out (`cli`; the GPU baseline and figures options of the unscaled path are not
    applied), otherwise the callback runs unchanged."""
    import functools

    import click

    from sim.system.spec import load_system

    @functools.wraps(command)
    def scaled(*args, devices=None, tp=None, pp=None, **kw):
        spec = load_system(kw["system_"])
        if not wanted(spec, kw["model"], devices, tp, pp):
            return command(*args, **kw)
        request = Request(kw["model"], kw["prompt"], kw["generate"], kw["batch"], kw["layers"], kw["attention"])
        return cli(with_scaleout(spec, devices, tp, pp), request, kw["placement"], kw["objective"], kw["fmt"])

    scaled.__click_params__ = list(getattr(command, "__click_params__", []))
    for name, what in (("--pp", "pipeline stages P (T x P = N)"), ("--tp", "tensor-parallel ways T"),
                       ("--devices", "devices N, copies of the system's unit group (docs/system.md, Scale-out)")):
        scaled = click.option(name, type=click.IntRange(min=1), default=None, help=f"scale-out: {what}")(scaled)
    return scaled
