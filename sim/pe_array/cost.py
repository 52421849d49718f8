"""Cost of one loop nest on a PE array: reuse and traffic per level, latency, energy.

Traffic (Timeloop's tile-analysis rules, Parashar et al., ISPASS 2019 §V, and ZigZag's
"data reuse" of Mei et al., IEEE TC 2021 §IV, for rank projections — every GEMM rank indexes a
tensor directly, so no sliding windows):

* a tensor's tile at level c is refilled from its parent p (the next outer level that holds it)
  once per iteration of the temporal loops above c **up to the innermost loop over a rank of the
  tensor**: trailing loops over ranks the tensor does not index keep the tile in place
  (stationarity). Fills = tile × that product;
* spatial loops of the fan-out level above c: the parent sends a tile once per distinct value of
  the ranks the tensor is indexed by (multicast over the others); every PE copy is written;
* outputs: every eviction writes the tile back to the parent; every fill but the first of each
  output element reads the partial sum back (reads = writes − the tensor's size); a reduced rank
  unrolled spatially is summed in the array (spatial reduction);
* padded iterations (a spatial factor that does not divide its rank) move no data: each tensor's
  bytes are scaled by Π real size / padded extent over its ranks.

Latency: compute = temporal steps × `cycles_per_step`; each level's traffic needs
bytes / `bytes_per_cycle` of its port; with double buffering the slowest of these hides the others
(Timeloop's bandwidth-throttled latency): cycles = max(compute, max over levels) + the systolic
pipeline fill and drain per fold (`sim.pe_array.systolic`, SCALE-Sim). Energy: every byte read or
written at a level × its energy per byte, the innermost level's operand accesses per MAC (two
operand reads, a partial-sum read and write), MACs × energy per MAC.
A nest whose tiles exceed a level's capacity (per role where the level splits it) is invalid.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from sim.pe_array.nest import Nest, Problem
from sim.pe_array.spec import PEArraySpec
from sim.pe_array.systolic import fold_overhead_cycles


@dataclass(frozen=True)
class NestCost:
    """What one nest costs. `bytes_by_level`: bytes read or written at each level;
    `fills_by_level`: per tensor, the bytes its parent sends into each level."""

    valid: bool
    cycles: float = math.inf
    compute_cycles: float = 0.0
    fill_drain_cycles: float = 0.0
    bandwidth_cycles: dict = field(default_factory=dict)
    bytes_by_level: dict = field(default_factory=dict)
    fills_by_level: dict = field(default_factory=dict)
    energy_pj_by_level: dict = field(default_factory=dict)
    energy_mac_pj: float = 0.0
    macs: int = 0
    utilization: float = 0.0
    reason: str = ""

    @property
    def energy_pj(self) -> float:
        return self.energy_mac_pj + sum(self.energy_pj_by_level.values())

    @property
    def edp(self) -> float:
        return self.cycles * self.energy_pj

    def objective(self, name: str) -> float:
        """`latency` (cycles), `energy` (pJ) or `edp` (cycles × pJ); ties broken by the others."""
        if not self.valid:
            return math.inf
        return {"latency": self.cycles, "energy": self.energy_pj, "edp": self.edp}[name]


def tiles(nest: Nest, levels: int, fanout: int) -> list[dict[str, int]]:
    """Per level, the tile extent of every rank (loops at this level and below)."""
    out: list[dict[str, int]] = [dict() for _ in range(levels + 1)]
    for i in range(levels - 1, -1, -1):
        t = dict(out[i + 1])
        for r, b in nest.temporal[i]:
            t[r] = t.get(r, 1) * b
        if i == fanout:
            for _, r, f in nest.spatial:
                t[r] = t.get(r, 1) * f
        out[i] = t
    return out


def tile_bytes(tile: dict[str, int], ranks, nbytes: float) -> float:
    out = nbytes
    for r in ranks:
        out *= tile.get(r, 1)
    return out


def check_capacity(spec: PEArraySpec, problem: Problem, tile: list[dict[str, int]]) -> str:
    """'' if every level's tiles fit its capacity, else why not."""
    for i, lvl in enumerate(spec.levels[1:], start=1):
        used: dict[str, float] = {}
        for t in problem.tensors:
            if t.role in lvl.holds:
                used[t.role] = tile_bytes(tile[i], t.ranks, t.bytes_per_element)
        if lvl.capacity_by_role:
            over = [r for r, b in used.items() if b > lvl.capacity_of(r) + 1e-9]
            if over:
                return f"{lvl.name}: {over[0]} tile exceeds its capacity"
        elif sum(used.values()) > lvl.capacity_bytes + 1e-9:
            return f"{lvl.name}: tiles exceed {lvl.capacity_bytes:g} B"
    return ""


def temporal_fills(above: list[tuple[str, int]], ranks) -> int:
    """Iterations of the temporal loops `above` (outer → inner) up to the innermost loop over one
    of `ranks`: the trailing loops over other ranks leave the tile in place."""
    n = run = 1
    for r, b in above:
        run *= b
        if r in ranks and b > 1:
            n, run = n * run, 1
    return n


def tensor_traffic(spec: PEArraySpec, nest: Nest, tile, tensor, scale: float, extents) -> dict[int, tuple]:
    """Per child level c holding `tensor`: (parent level, parent-side bytes, child-side bytes, bytes
    the parent sends)."""
    f = spec.fanout_level
    is_out = tensor.role == "output"
    ranks = tensor.ranks
    full = tile_bytes(extents, ranks, tensor.bytes_per_element) * scale
    rel_sp = all_sp = 1
    for _, r, fac in nest.spatial:
        all_sp *= fac
        if r in ranks:
            rel_sp *= fac
    out: dict[int, tuple] = {}
    above: list[tuple[str, int]] = []
    p = 0
    for c, lvl in enumerate(spec.levels):
        if c > 0 and tensor.role in lvl.holds:
            sp_r, sp_a = (rel_sp, all_sp) if f < c else (1, 1)
            moved = tile_bytes(tile[c], ranks, tensor.bytes_per_element) * scale * temporal_fills(above, ranks) * sp_r
            if is_out:
                parent = child = 2 * moved - full
            else:
                parent, child = moved, moved * sp_a / sp_r
            out[c] = (p, parent, child, moved)
            p = c
        above.extend(nest.temporal[c])
    return out


def evaluate(problem: Problem, nest: Nest, spec: PEArraySpec) -> NestCost:
    """The cost of `nest` for `problem` on `spec` (see the module docstring)."""
    nl, f = len(spec.levels), spec.fanout_level
    tile = tiles(nest, nl, f)
    why = check_capacity(spec, problem, tile)
    if why:
        return NestCost(valid=False, reason=why)
    sizes, extents = problem.sizes, tile[0]
    access = [0.0] * nl
    fills: dict[str, dict[str, float]] = {}
    for t in problem.tensors:
        scale = math.prod(sizes[r] / extents.get(r, 1) for r in t.ranks)
        fills[t.name] = {}
        for c, (p, parent, child, moved) in tensor_traffic(spec, nest, tile, t, scale, extents).items():
            access[p] += parent
            access[c] += child
            fills[t.name][spec.levels[c].name] = moved
    return finish(problem, nest, spec, access, fills)


def folds(problem: Problem, nest: Nest) -> int:
    """Folds of a systolic array: how often its most stationary operand is replaced, i.e. the
    fewest temporal refills of any tensor's per-PE tile (SCALE-Sim's folds; the loops after the
    stationary operand's innermost relevant loop stream T elements through the fold)."""
    return min(fold_counts(problem, nest).values())


def fold_counts(problem: Problem, nest: Nest) -> dict[str, int]:
    """Per tensor role, the temporal refills of its per-PE tile over the whole nest."""
    loops = [lp for level in nest.temporal for lp in level]
    return {t.role: temporal_fills(loops, t.ranks) for t in problem.tensors}


def systolic_overhead(problem: Problem, nest: Nest) -> float:
    """Fill and drain over all folds (`sim.pe_array.systolic`); output-stationary when the output
    is strictly the most stationary tensor."""
    used = {d: math.prod(fac for dd, _, fac in nest.spatial if dd == d) for d in ("rows", "cols")}
    counts = fold_counts(problem, nest)
    n = min(counts.values())
    os_ = sum(c == n for c in counts.values()) == 1 and counts["output"] == n
    return n * fold_overhead_cycles(used["rows"], used["cols"], os_)


def finish(problem: Problem, nest: Nest, spec: PEArraySpec, access: list[float], fills) -> NestCost:
    """Latency and energy from the per-level accesses."""
    nl, f = len(spec.levels), spec.fanout_level
    macs = problem.macs
    operand = sum(t.bytes_per_element * (2 if t.role == "output" else 1) for t in problem.tensors)
    access[-1] += macs * operand
    steps_out = math.prod(b for i in range(f + 1) for _, b in nest.temporal[i])
    steps_in = math.prod(b for i in range(f + 1, nl) for _, b in nest.temporal[i])
    compute = steps_out * steps_in * spec.cycles_per_step
    bw = {spec.levels[i].name: access[i] / spec.levels[i].bytes_per_cycle
          for i in range(nl - 1) if math.isfinite(spec.levels[i].bytes_per_cycle)}
    fill_drain = systolic_overhead(problem, nest) if spec.systolic else 0.0
    cycles = max([compute, *bw.values()]) + fill_drain
    energy = {lvl.name: access[i] * lvl.energy_pj_per_byte for i, lvl in enumerate(spec.levels)}
    return NestCost(valid=True, cycles=cycles, compute_cycles=compute, fill_drain_cycles=fill_drain,
                    bandwidth_cycles=bw, bytes_by_level={lvl.name: access[i] for i, lvl in enumerate(spec.levels)},
                    fills_by_level=fills, energy_pj_by_level=energy, energy_mac_pj=macs * spec.mac_energy_pj,
                    macs=macs, utilization=macs / (steps_out * steps_in * spec.macs_per_step))


def level_footprint(problem: Problem, nest: Nest, spec: PEArraySpec, level: int = 1) -> float:
    """Bytes of the tiles `nest` keeps at `level` (every tensor the level holds): the share of that
    level the nest occupies; the rest is free (`sim.pe_array.fusion`)."""
    tile = tiles(nest, len(spec.levels), spec.fanout_level)[level]
    held = spec.levels[level].holds
    return sum(tile_bytes(tile, t.ranks, t.bytes_per_element) for t in problem.tensors if t.role in held)


def less_outer_traffic(cost: NestCost, spec: PEArraySpec, nbytes: float) -> NestCost:
    """`cost` with `nbytes` fewer bytes at the outermost level (DRAM): a fused tensor kept on chip.
    That level's bandwidth time and energy shrink; cycles = max(compute, every level's time) +
    fill/drain as in `finish`."""
    if nbytes <= 0:
        return cost
    outer = spec.levels[0]
    left = max(cost.bytes_by_level[outer.name] - nbytes, 0.0)
    bw = dict(cost.bandwidth_cycles)
    if outer.name in bw:
        bw[outer.name] = left / outer.bytes_per_cycle
    cycles = max([cost.compute_cycles, *bw.values()]) + cost.fill_drain_cycles
    return replace(cost, cycles=cycles, bandwidth_cycles=bw,
                   bytes_by_level={**cost.bytes_by_level, outer.name: left},
                   energy_pj_by_level={**cost.energy_pj_by_level, outer.name: left * outer.energy_pj_per_byte})
