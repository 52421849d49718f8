"""The fixed dataflow the families ran before the search: output-stationary, BitMoD-style.

As `mappers.bitserial.schedule` (the BitMoD authors' `_calc_tile_fc`): output channels (N) on the
array's rows, tokens (M) on its columns, the reduction (K) over the PE lanes where the array has
them; every PE keeps its output while K streams through (K innermost at the fan-out level); the
global buffer holds a K chunk as long as fits, then as many row tiles of weights and column tiles
of inputs as fit; DRAM loops weights-outer (N, M, K) or inputs-outer (M, N, K), whichever costs
less. The difference from `mappers.bitserial.schedule`: block sizes are rounded down to divisors
(the nest model has divisor tilings), and the batch rank, if any, is the outermost loop.
"""
from __future__ import annotations

import math

from sim.pe_array.cost import evaluate
from sim.pe_array.nest import Nest, Problem
from sim.pe_array.spec import PEArraySpec


def spatial(problem: Problem, spec: PEArraySpec) -> tuple:
    sizes = problem.sizes
    want = {"rows": "N", "cols": "M", "lanes": "K"}
    out = []
    for dim in spec.spatial:
        r = want.get(dim.name)
        if r in sizes:
            out.append((dim.name, r, min(sizes[r], dim.size)))
    return tuple(out)


def blocks_nest(problem: Problem, spec: PEArraySpec, sp: tuple, blocks: dict, dram_order: tuple) -> Nest:
    rem = dict(problem.sizes)
    for _, r, f in sp:
        rem[r] = math.ceil(rem[r] / f)
    glb = tuple((r, blocks.get(r, 1)) for r in ("N", "M", "K") if r in rem)
    outer = tuple((r, rem[r] // blocks.get(r, 1)) for r in ("B", *dram_order) if r in rem)
    n = len(spec.levels)
    temporal = [outer] + [()] * (n - 1)
    temporal[spec.fanout_level] = glb if spec.fanout_level > 0 else glb
    return Nest(tuple(temporal), sp)


def grow(problem, spec, sp, blocks: dict, rank: str, rem: dict) -> dict:
    """The largest divisor block of `rank` that keeps the nest valid."""
    if rank not in rem:
        return blocks
    best = dict(blocks, **{rank: 1})
    for d in sorted({d for d in range(1, rem[rank] + 1) if rem[rank] % d == 0}):
        trial = dict(blocks, **{rank: d})
        if evaluate(problem, blocks_nest(problem, spec, sp, trial, ("N", "M", "K")), spec).valid:
            best = trial
    return best


def output_stationary(problem: Problem, spec: PEArraySpec) -> Nest:
    """The fixed output-stationary nest of `problem` on `spec` (see the module docstring)."""
    sp = spatial(problem, spec)
    rem = dict(problem.sizes)
    for _, r, f in sp:
        rem[r] = math.ceil(rem[r] / f)
    blocks: dict[str, int] = {}
    for rank in ("K", "N", "M"):
        blocks = grow(problem, spec, sp, blocks, rank, rem)
    nests = [blocks_nest(problem, spec, sp, blocks, order) for order in (("N", "M", "K"), ("M", "N", "K"))]
    return min(nests, key=lambda n: evaluate(problem, n, spec).bytes_by_level.get(spec.levels[0].name, math.inf))
