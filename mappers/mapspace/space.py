"""The mapspace of one Einsum on a PE array: spatial unrollings, divisor tilings, loop orders.

* spatial: each spatial dimension of the array unrolls one rank (or none; two dimensions never
  the same rank; a `reduce_only` dimension only a reduced rank) by min(rank, dimension) — padded
  when it does not divide — or by the rank's largest divisor that fits; options under
  `keep` × the best utilization are dropped (ZigZag's spatial-mapping generator keeps the
  highest-utilization unrollings, Mei et al., IEEE TC 2021 §V-A);
* tiling: what the spatial unrolling leaves of each rank is split over the levels with loops
  (all but the innermost, whose tile is one element) by divisors (Timeloop's "divisor
  tilings"); the innermost levels are chosen first, each tile must fit its level. `maximal`
  keeps, per level, only tiles that no rank can grow to its next divisor while still fitting —
  growing a tile moves a loop inward, which never adds fills at any level (the fills product only
  loses factors that become stationary) and leaves the compute unchanged;
* loop orders: per level, the permutations of its non-unit loops, one per class of equal
  *stationarity signature* (for each tensor the set of trailing loops over ranks it does not
  index): the fills rule (`sim.pe_array.cost.temporal_fills`) depends on nothing else, so this
  dominance pruning is lossless.
"""
from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np

from sim.pe_array.cost import tile_bytes
from sim.pe_array.nest import Problem
from sim.pe_array.spec import PEArraySpec


@lru_cache(maxsize=4096)
def divisors(n: int) -> tuple[int, ...]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return tuple(sorted(set(small + [n // d for d in small])))


def largest_divisor_at_most(n: int, cap: int) -> int:
    return max(d for d in divisors(n) if d <= cap)


def spatial_utilization(problem: Problem, option, spec: PEArraySpec) -> float:
    """MACs per step over the array's MAC slots, with padding."""
    sizes = problem.sizes
    used = 1.0
    for _, r, f in option:
        used *= f * (sizes[r] / (math.ceil(sizes[r] / f) * f))
    return used / spec.macs_per_step


def spatial_options(problem: Problem, spec: PEArraySpec, keep: float = 0.9) -> list[tuple]:
    """Spatial unrollings `((dim, rank, factor), …)` within `keep` of the best utilization."""
    sizes, reduced = problem.sizes, problem.reduced
    choices = []
    for dim in spec.spatial:
        opts = [None]
        for r, s in sizes.items():
            if dim.reduce_only and r not in reduced:
                continue
            opts += [(dim.name, r, f) for f in {min(s, dim.size), largest_divisor_at_most(s, dim.size)} if f > 1]
        choices.append(opts)
    out = []
    for combo in itertools.product(*choices):
        picked = tuple(c for c in combo if c is not None)
        if len({r for _, r, _ in picked}) == len(picked):
            out.append(picked)
    util = {o: spatial_utilization(problem, o, spec) for o in out}
    best = max(util.values())
    return sorted((o for o in out if util[o] >= keep * best - 1e-12), key=lambda o: -util[o])


def remaining(problem: Problem, option) -> dict[str, int]:
    """What the temporal loops must cover of each rank after the spatial unrolling."""
    rem = dict(problem.sizes)
    for _, r, f in option:
        rem[r] = math.ceil(rem[r] / f)
    return rem


def fits(problem: Problem, spec: PEArraySpec, level: int, tile: dict[str, int]) -> bool:
    lvl = spec.levels[level]
    used = {t.role: tile_bytes(tile, t.ranks, t.bytes_per_element) for t in problem.tensors if t.role in lvl.holds}
    if lvl.capacity_by_role:
        return all(b <= lvl.capacity_of(r) + 1e-9 for r, b in used.items())
    return sum(used.values()) <= lvl.capacity_bytes + 1e-9


def fits_grid(problem: Problem, spec: PEArraySpec, level: int, tile: dict[str, np.ndarray]) -> np.ndarray:
    """`fits` over arrays of tile extents (the same float operations, elementwise)."""
    lvl = spec.levels[level]
    used = {}
    for t in problem.tensors:
        if t.role in lvl.holds:
            b = t.bytes_per_element
            for r in t.ranks:
                b = b * tile.get(r, 1)
            used[t.role] = b
    shape = np.broadcast(*tile.values()).shape if tile else ()
    if lvl.capacity_by_role:
        ok = np.ones(shape, dtype=bool)
        for r, b in used.items():
            ok &= np.asarray(b <= lvl.capacity_of(r) + 1e-9)
        return ok
    total = 0
    for b in used.values():
        total = total + b
    return np.broadcast_to(np.asarray(total <= lvl.capacity_bytes + 1e-9), shape)


def level_tiles(problem, spec, level: int, rem: dict[str, int], base: dict[str, int], maximal: bool) -> list[dict]:
    """Factor choices `{rank: factor}` at `level` (dividing `rem`) whose tile (`base` × factors)
    fits the level, in `itertools.product` order over the ranks' divisors; with `maximal`, only
    those no rank can grow to its next divisor (a multiple of it) while still fitting. Evaluated
    on the whole divisor grid at once (numpy)."""
    ranks = list(rem)
    divs = [np.array(divisors(rem[r]), dtype=np.int64) for r in ranks]
    grids = np.meshgrid(*divs, indexing="ij") if ranks else []
    tile = {r: base.get(r, 1) * g for r, g in zip(ranks, grids)}
    tile.update({r: b for r, b in base.items() if r not in tile})
    ok = fits_grid(problem, spec, level, tile)
    if maximal and ranks:
        grows = np.zeros(ok.shape, dtype=bool)
        for i, d in enumerate(divs):
            up = ((d[None, :] > d[:, None]) & (d[None, :] % d[:, None] == 0)).astype(np.int64)
            grows |= np.moveaxis(np.tensordot(up, ok.astype(np.int64), axes=([1], [i])), 0, i) > 0
        ok = ok & ~grows
    return [{r: int(divs[j][ix]) for j, (r, ix) in enumerate(zip(ranks, idx))} for idx in np.argwhere(ok)] \
        if ranks else ([{}] if bool(ok) else [])


def tilings(problem: Problem, spec: PEArraySpec, option, maximal: bool) -> list[list[dict]]:
    """Per spatial option, every split `[factors at level 0, …, level L-2]` (innermost chosen
    first; level 0, DRAM, takes what is left)."""
    rem = remaining(problem, option)
    fan = spec.fanout_level
    spatial = {}
    for _, r, f in option:
        spatial[r] = spatial.get(r, 1) * f
    out: list[list[dict]] = []

    def walk(level: int, left: dict[str, int], below: dict[str, int], acc: list[dict]) -> None:
        if level == 0:
            out.append([dict(left)] + acc)
            return
        base = dict(below)
        if level == fan:
            for r, f in spatial.items():
                base[r] = base.get(r, 1) * f
        for fac in level_tiles(problem, spec, level, left, base, maximal):
            nxt = {r: left[r] // fac[r] for r in left}
            tile = {r: base.get(r, 1) * fac.get(r, 1) for r in set(base) | set(fac)}
            walk(level - 1, nxt, tile, [fac] + acc)
    walk(len(spec.levels) - 2, rem, {}, [])
    return out


def signature(order: tuple[str, ...], problem: Problem) -> tuple:
    """Per tensor, the ranks of the trailing loops it does not index."""
    sig = []
    for t in problem.tensors:
        trail = []
        for r in reversed(order):
            if r in t.ranks:
                break
            trail.append(r)
        sig.append(frozenset(trail))
    return tuple(sig)


@lru_cache(maxsize=4096)
def order_classes(ranks: tuple[str, ...], problem: Problem) -> tuple[tuple[str, ...], ...]:
    """One permutation of `ranks` per stationarity signature."""
    seen: dict[tuple, tuple[str, ...]] = {}
    for perm in itertools.permutations(ranks):
        seen.setdefault(signature(perm, problem), perm)
    return tuple(seen.values())
