"""The nest cost of `sim.pe_array.cost` over a batch of nests at once (numpy arrays).

`evaluate_batch(problem, nests, spec)` gives, per nest, validity, cycles, energy and EDP and the
bytes per level — the same figures as `cost.evaluate`, computed with the same floating-point
operations in the same order, so they are equal (bit for bit in practice; the property test,
`tests/sim/pe_array/test_pe_array_batch.py`, holds them to rel 1e-12). The nests may differ in
everything (spatial loops, tilings, loop orders). Encoding: per nest and level, `P` loop slots
(bound, rank index; unused slots bound 1); the rules are the module docstring of `cost`:

* tile of rank r at level c = Π bounds of r at levels ≥ c, × its spatial factors for the levels
  from DRAM down to the fan-out level;
* temporal fills of a tensor into level c = the prefix product of the flattened loops above c up
  to the last non-unit loop over one of its ranks (`cost.temporal_fills`);
* folds (systolic arrays) = the fewest fills of any tensor over the whole nest.

The search (`mappers.mapspace.search`) scores its candidates with this and costs the winner
again with `cost.evaluate` for the full `NestCost`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.pe_array.nest import Nest, Problem
from sim.pe_array.spec import PEArraySpec
from sim.pe_array.systolic import fold_overhead_cycles


@dataclass(frozen=True)
class BatchCost:
    """Per nest (arrays of length n): `valid`, `cycles` (inf when invalid), `energy_pj`, `edp`,
    `compute_cycles`, `fill_drain_cycles`; `bytes_by_level` is n × levels."""

    valid: np.ndarray
    cycles: np.ndarray
    energy_pj: np.ndarray
    edp: np.ndarray
    compute_cycles: np.ndarray
    fill_drain_cycles: np.ndarray
    bytes_by_level: np.ndarray

    def objective(self, name: str) -> np.ndarray:
        """As `NestCost.objective`: inf where the nest is invalid."""
        v = {"latency": self.cycles, "energy": self.energy_pj, "edp": self.edp}[name]
        return np.where(self.valid, v, np.inf)


@dataclass(frozen=True)
class Encoded:
    """Nests as arrays: `bounds`, `rank` (n × levels × P; rank −1 for an empty slot), `spatial`
    (n × ranks: the product of the spatial factors per rank), `rows`, `cols` (n: factors on the
    rows and cols dimensions)."""

    bounds: np.ndarray
    rank: np.ndarray
    spatial: np.ndarray
    rows: np.ndarray
    cols: np.ndarray


def encode(problem: Problem, nests: list[Nest], levels: int) -> Encoded:
    """The arrays of `Encoded` for `nests` (each with `levels` temporal levels)."""
    index = {r: i for i, (r, _) in enumerate(problem.ranks)}
    nr, n = len(index), len(nests)
    slots = max(1, max((len(lv) for x in nests for lv in x.temporal), default=1))
    bounds, rank = np.ones((n, levels, slots)), np.full((n, levels, slots), -1, dtype=np.int64)
    spatial, rows, cols = np.ones((n, nr)), np.ones(n), np.ones(n)
    for j, x in enumerate(nests):
        for i, loops in enumerate(x.temporal):
            for s, (r, b) in enumerate(loops):
                bounds[j, i, s], rank[j, i, s] = b, index[r]
        for d, r, f in x.spatial:
            spatial[j, index[r]] *= f
            if d == "rows":
                rows[j] *= f
            elif d == "cols":
                cols[j] *= f
    return Encoded(bounds, rank, spatial, rows, cols)


def level_tiles(enc: Encoded, nr: int, fanout: int) -> np.ndarray:
    """n × (levels + 1) × ranks: the tile extent of every rank per level (`cost.tiles`)."""
    n, nl, _ = enc.bounds.shape
    per = np.ones((n, nl, nr))
    for r in range(nr):
        per[:, :, r] = np.where(enc.rank == r, enc.bounds, 1.0).prod(axis=2)
    out = np.ones((n, nl + 1, nr))
    for i in range(nl - 1, -1, -1):
        out[:, i] = out[:, i + 1] * per[:, i]
        if i == fanout:
            out[:, i] *= enc.spatial
    return out


def tile_bytes(tile: np.ndarray, ranks: list[int], nbytes: float) -> np.ndarray:
    out = np.full(tile.shape[0], nbytes)
    for r in ranks:
        out = out * tile[:, r]
    return out


def capacity_ok(problem: Problem, spec: PEArraySpec, tile: np.ndarray, ranks_of) -> np.ndarray:
    """Per nest, whether every level's tiles fit (`cost.check_capacity`)."""
    ok = np.ones(tile.shape[0], dtype=bool)
    for i, lvl in enumerate(spec.levels[1:], start=1):
        used = {t.role: tile_bytes(tile[:, i], ranks_of[t.name], t.bytes_per_element)
                for t in problem.tensors if t.role in lvl.holds}
        if lvl.capacity_by_role:
            for role, b in used.items():
                ok &= ~(b > lvl.capacity_of(role) + 1e-9)
        elif used:
            total = 0
            for b in used.values():
                total = total + b
            ok &= ~(total > lvl.capacity_bytes + 1e-9)
    return ok


def fills_before(enc: Encoded, prefix: np.ndarray, ranks: list[int], upto: int) -> np.ndarray:
    """`cost.temporal_fills` of the loops in the first `upto` flattened slots, per nest."""
    n = enc.bounds.shape[0]
    if upto == 0:
        return np.ones(n)
    rk = enc.rank.reshape(n, -1)[:, :upto]
    b = enc.bounds.reshape(n, -1)[:, :upto]
    rel = np.isin(rk, ranks) & (b > 1)
    last = np.where(rel, np.arange(1, upto + 1), 0).max(axis=1)
    return np.take_along_axis(prefix, last[:, None], axis=1)[:, 0]


def evaluate_batch(problem: Problem, nests: list[Nest], spec: PEArraySpec) -> BatchCost:
    """The costs of `nests` for `problem` on `spec` (see the module docstring).

    Why one function: it is `cost.evaluate` and `cost.tensor_traffic` over arrays, and the float
    operations must stay in that order to give the same numbers."""
    nl, f = len(spec.levels), spec.fanout_level
    index = {r: i for i, (r, _) in enumerate(problem.ranks)}
    enc = encode(problem, nests, nl)
    n, slots = len(nests), enc.bounds.shape[2]
    tile = level_tiles(enc, len(index), f)
    ranks_of = {t.name: [index[r] for r in t.ranks] for t in problem.tensors}
    valid = capacity_ok(problem, spec, tile, ranks_of)
    flat = enc.bounds.reshape(n, -1)
    prefix = np.concatenate([np.ones((n, 1)), np.cumprod(flat, axis=1)], axis=1)
    sizes, extents = problem.sizes, tile[:, 0]
    all_sp = enc.spatial.prod(axis=1)
    access = [np.zeros(n) for _ in range(nl)]
    counts = {}
    for t in problem.tensors:
        rs = ranks_of[t.name]
        scale = np.ones(n)
        for r in t.ranks:
            scale = scale * (sizes[r] / extents[:, index[r]])
        full = tile_bytes(extents, rs, t.bytes_per_element) * scale
        rel_sp = np.ones(n)
        for r in rs:
            rel_sp = rel_sp * enc.spatial[:, r]
        p = 0
        for c in range(1, nl):
            if t.role not in spec.levels[c].holds:
                continue
            sp_r, sp_a = (rel_sp, all_sp) if f < c else (1.0, 1.0)
            moved = tile_bytes(tile[:, c], rs, t.bytes_per_element) * scale * fills_before(enc, prefix, rs, c * slots) * sp_r
            if t.role == "output":
                parent = child = 2 * moved - full
            else:
                parent, child = moved, moved * sp_a / sp_r
            access[p] = access[p] + parent
            access[c] = access[c] + child
            p = c
        counts[t.role] = fills_before(enc, prefix, rs, nl * slots)
    return finish_batch(problem, spec, enc, valid, access, counts, prefix)


def finish_batch(problem: Problem, spec: PEArraySpec, enc: Encoded, valid, access, counts, prefix) -> BatchCost:
    """Latency and energy from the per-level accesses (`cost.finish`)."""
    nl, f = len(spec.levels), spec.fanout_level
    n, slots = enc.bounds.shape[0], enc.bounds.shape[2]
    macs = problem.macs
    operand = sum(t.bytes_per_element * (2 if t.role == "output" else 1) for t in problem.tensors)
    access[-1] = access[-1] + macs * operand
    steps_out = prefix[:, (f + 1) * slots]
    steps_in = enc.bounds[:, f + 1:].reshape(n, -1).prod(axis=1)
    compute = steps_out * steps_in * spec.cycles_per_step
    cycles = compute
    for i in range(nl - 1):
        if math.isfinite(spec.levels[i].bytes_per_cycle):
            cycles = np.maximum(cycles, access[i] / spec.levels[i].bytes_per_cycle)
    fill_drain = np.zeros(n)
    if spec.systolic:
        least = np.minimum.reduce(list(counts.values()))
        ties = sum((c == least).astype(np.int64) for c in counts.values())
        os_ = (ties == 1) & (counts["output"] == least)
        fill_drain = least * np.where(os_, fold_overhead_cycles(enc.rows, enc.cols, True),
                                      fold_overhead_cycles(enc.rows, enc.cols, False))
    cycles = cycles + fill_drain
    energy = 0
    for i, lvl in enumerate(spec.levels):
        energy = energy + access[i] * lvl.energy_pj_per_byte
    energy = macs * spec.mac_energy_pj + energy
    edp = np.where(valid, cycles * energy, np.inf)
    cycles = np.where(valid, cycles, np.inf)
    return BatchCost(valid, cycles, energy, edp, compute, fill_drain, np.stack(access, axis=1))
