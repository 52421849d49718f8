"""List scheduling of a placed cascade on a heterogeneous system: units and links as resources.

Input: the cascade (its DAG, `workloads.ir.cascade.Cascade.graph`), a placement (Einsum -> unit,
a `sim.contract.Mapping` of family "system"), each unit's per-Einsum costs
(`sim.system.costs.UnitCosts`: the unit's family's standalone rows) and the `SystemSpec`.

The model (docs/system.md):
* Einsums are taken in the cascade's execution order (`Cascade.schedule`, a topological order
  of the DAG without its loop-carried edges) — the list. Each Einsum starts when its unit is free
  and every input it reads from another Einsum has arrived; it then holds its unit for the
  duration its unit's family reported for it (the row's `latency_s`). One Einsum at a time per
  unit, no preemption, no reordering past the list (no backfilling).
* Loop-carried edges (a 1-pass softmax's recurrence over an iterative rank) are not scheduled
  edges: their producer and consumer are steps of one fused loop, run on one unit.
* A tensor produced on unit A and read on unit B != A crosses the route A -> B
  (`SystemSpec.route`: the direct link, or store-and-forward through the host): per hop it waits
  for that link direction to be free (one transfer at a time per direction), then takes
  `latency_s + bytes / bandwidth` and costs `bytes * 8 * pJ/bit`. Bytes are the tensor's
  (`TensorSpec.bytes`: the whole tensor, e.g. the whole KV cache when an append and its reader sit
  on different units). A tensor moves to a unit once; later readers there reuse it. Weights and
  other cascade inputs are resident where they are read (see `experiments.system.request` for the
  memory they take). The transfer's bytes and energy are charged to the row of the Einsum that
  first needed it there (`bytes_link`, `energy_link_j`).

Latency accounting: each row keeps `start_s`, `end_s` and `busy_s` (its unit's duration), and its
`latency_s` is its *exposed* share: how far its end pushes the run's frontier past every Einsum
that ended before it (rows sorted by end time; max(0, end - frontier)). The shares add up to the
makespan, so `Result.totals()["latency_s"]` is the cascade's latency on the system, as the
contract requires. On a one-unit system every start is the previous end, each row's share is its
duration, and the Result equals the standalone family's (tested for all four families).
Energy per row is the unit's energy components plus `energy_link_j`. Not modeled: idle/static
power of a unit while it waits (only what the families charge), link contention beyond one
transfer per direction, overlap of a transfer with its producer (a tensor leaves when complete).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sim.contract import Mapping, Result
from sim.system.costs import UnitCosts
from sim.system.spec import SystemSpec
from workloads.errors import SpecError


@dataclass(frozen=True)
class Dag:
    """What the scheduler reads of a cascade: the list, the scheduled edges, tensor sizes."""

    order: tuple[str, ...]
    preds: dict[str, tuple[tuple[str, str], ...]]
    tensor_bytes: dict[str, float]
    position: dict[str, int]

    @classmethod
    def of(cls, cascade) -> "Dag":
        order = tuple(name for _, members in cascade.schedule for name in members)
        g = cascade.graph
        preds = {n: tuple((p, g.edges[p, n]["tensor"]) for p in g.predecessors(n)
                          if not g.edges[p, n]["carried"]) for n in order}
        return cls(order, preds, {n: t.bytes for n, t in cascade.tensors.items()},
                   {n: i for i, n in enumerate(order)})


@dataclass(frozen=True)
class Transfer:
    """One hop of one tensor over one link direction."""

    tensor: str
    consumer: str
    link: str
    src: str
    dst: str
    nbytes: float
    start_s: float
    end_s: float
    energy_j: float


@dataclass
class Timeline:
    """Start and end of every Einsum, the transfers, per-unit busy time, the makespan."""

    start: dict[str, float] = field(default_factory=dict)
    end: dict[str, float] = field(default_factory=dict)
    transfers: list[Transfer] = field(default_factory=list)
    link_bytes: dict[str, float] = field(default_factory=dict)
    link_energy: dict[str, float] = field(default_factory=dict)
    busy: dict[str, float] = field(default_factory=dict)
    unit_energy_j: float = 0.0

    @property
    def makespan(self) -> float:
        return max(self.end.values(), default=0.0)

    @property
    def energy_j(self) -> float:
        return self.unit_energy_j + sum(self.link_energy.values())


class _Links:
    """Link-direction availability, routes and the arrival of each tensor at each unit."""

    def __init__(self, system: SystemSpec, tl: Timeline) -> None:
        self.system, self.tl = system, tl
        self.free: dict[tuple[str, str], float] = {}
        self.routes: dict[tuple[str, str], tuple] = {}
        self.arrival: dict[tuple[str, str], float] = {}

    def arrive(self, tensor: str, nbytes: float, src: str, dst: str, ready: float, consumer: str) -> float:
        """When `tensor` (ready on `src` at `ready`) is on `dst`; schedules the hops the first time."""
        key = (tensor, dst)
        if key in self.arrival:
            return self.arrival[key]
        route = self.routes.get((src, dst))
        if route is None:
            route = self.routes[(src, dst)] = self.system.route(src, dst)
        t = ready
        for link, frm, to in route:
            start = max(t, self.free.get((link.name, frm), 0.0))
            t = start + link.transfer_s(nbytes)
            self.free[(link.name, frm)] = t
            energy = link.energy_j(nbytes)
            self.tl.transfers.append(Transfer(tensor, consumer, link.name, frm, to, nbytes, start, t, energy))
            self.tl.link_bytes[consumer] = self.tl.link_bytes.get(consumer, 0.0) + nbytes
            self.tl.link_energy[consumer] = self.tl.link_energy.get(consumer, 0.0) + energy
        self.arrival[key] = t
        return t


def _duration(costs: dict[str, UnitCosts], unit: str, einsum: str) -> float:
    cost = costs.get(unit)
    if cost is None:
        raise SpecError(f"Einsum {einsum} is placed on {unit!r}, which has no cost table (not a unit of the system?)")
    try:
        return cost.duration_s[einsum]
    except KeyError:
        why = f": {cost.refused}" if cost.refused else ""
        raise SpecError(f"Einsum {einsum} is placed on unit {unit!r}, whose {cost.family} family does not run "
                        f"this cascade{why}") from None


def timeline(dag: Dag, placement: dict[str, str], costs: dict[str, UnitCosts], system: SystemSpec) -> Timeline:
    """List-schedule the placed cascade (see the module docstring); the core `schedule` and the
    placement search share."""
    tl = Timeline()
    links = _Links(system, tl)
    unit_free: dict[str, float] = {}
    for e in dag.order:
        unit = placement[e]
        ready = 0.0
        for producer, tensor in dag.preds[e]:
            src = placement[producer]
            t = tl.end[producer]
            if src != unit:
                t = links.arrive(tensor, dag.tensor_bytes[tensor], src, unit, t, e)
            ready = max(ready, t)
        d = _duration(costs, unit, e)
        start = max(ready, unit_free.get(unit, 0.0))
        tl.start[e], tl.end[e] = start, start + d
        unit_free[unit] = start + d
        tl.busy[unit] = tl.busy.get(unit, 0.0) + d
        tl.unit_energy_j += costs[unit].energy_j[e]
    return tl


def exposed_latency(order: tuple[str, ...], end: dict[str, float], position: dict[str, int]) -> dict[str, float]:
    """Each Einsum's share of the makespan: how far its end moves the frontier (sums to the makespan)."""
    frontier, out = 0.0, {}
    for e in sorted(order, key=lambda n: (end[n], position[n])):
        out[e] = max(0.0, end[e] - frontier)
        frontier = max(frontier, end[e])
    return out


def _rows(cascade, dag: Dag, placement: dict[str, str], costs: dict[str, UnitCosts], tl: Timeline) -> pd.DataFrame:
    exposed = exposed_latency(dag.order, tl.end, dag.position)
    rows = []
    for e in cascade.einsums:
        unit = placement[e.name]
        rec = dict(costs[unit].records[e.name])
        rows.append({"einsum": e.name, "unit": unit, "family": costs[unit].family, "group": e.group,
                     "layer": e.layer, "latency_s": exposed[e.name], "busy_s": costs[unit].duration_s[e.name],
                     "start_s": tl.start[e.name], "end_s": tl.end[e.name],
                     "bytes_link": tl.link_bytes.get(e.name, 0.0),
                     "energy_link_j": tl.link_energy.get(e.name, 0.0), **rec})
    df = pd.DataFrame(rows)
    fill = [c for c in df.columns if c.startswith(("energy_", "bytes_")) or c in ("offchip_bytes", "cycles", "macs")]
    df[fill] = df[fill].fillna(0.0)
    return df


def design_figures(tl: Timeline, system: SystemSpec) -> dict[str, float]:
    """Per-unit busy time and utilization (busy / makespan), per-link bytes and busy time."""
    span = tl.makespan
    out: dict[str, float] = {}
    for unit in system.unit_names:
        busy = tl.busy.get(unit, 0.0)
        out[f"busy_s_{unit}"] = busy
        out[f"util_{unit}"] = busy / span if span > 0 else 0.0
    for link in system.links:
        hops = [t for t in tl.transfers if t.link == link.name]
        out[f"link_bytes_{link.name}"] = float(sum(t.nbytes for t in hops))
        out[f"link_busy_s_{link.name}"] = float(sum(t.end_s - t.start_s for t in hops))
    out["transfers"] = float(len(tl.transfers))
    return out


def schedule(mapping: Mapping, costs: dict[str, UnitCosts], system: SystemSpec) -> Result:
    """The system's Result for a placement: one row per Einsum (see the module docstring)."""
    cascade = mapping.cascade
    placement = {m.einsum: m.unit for m in mapping.einsums}
    missing = [e.name for e in cascade.einsums if e.name not in placement]
    if missing:
        raise SpecError(f"placement leaves {len(missing)} Einsum(s) without a unit, e.g. {missing[0]}")
    dag = Dag.of(cascade)
    tl = timeline(dag, placement, costs, system)
    tokens = next((c.result.tokens for c in costs.values() if c.result is not None), 1)
    return Result(family="system", rows=_rows(cascade, dag, placement, costs, tl),
                  design=design_figures(tl, system), tokens=tokens)
