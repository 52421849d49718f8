"""An Einsum's loop nest on a PE array: the problem (ranks, tensors) and the mapping (loops).

The nest semantics are Timeloop's (Parashar et al., ISPASS 2019, §IV "mapping"): per storage
level, outermost (DRAM) first, a list of temporal loops `(rank, bound)` in order outer → inner;
the fan-out level also has spatial loops `(dimension, rank, factor)` that unroll ranks over the
array's rows, columns and lanes. A level's tile of a rank is the product of the bounds of that
rank at this level and every level below it (spatial loops of the fan-out level included in the
tiles of the fan-out level and above). The product of a rank's bounds over the whole nest covers
the rank (it may exceed it when a spatial factor does not divide: the padded iterations idle).

Weight-, output- and input-stationary dataflows are special cases: what stays in a PE is decided
by which ranks are unrolled spatially and which rank the innermost temporal loops above the PE
iterate (ZigZag's "temporal mapping" and "spatial mapping", Mei et al., IEEE TC 2021).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TensorAccess:
    """A tensor of the Einsum: its role (input, weight, output), the ranks indexing it and the
    bytes per element."""

    name: str
    role: str
    ranks: frozenset[str]
    bytes_per_element: float


@dataclass(frozen=True)
class Problem:
    """An Einsum as the cost model sees it: rank sizes and three tensor accesses (two inputs, one
    output); ranks absent from the output are reduced."""

    name: str
    ranks: tuple[tuple[str, int], ...]
    tensors: tuple[TensorAccess, ...]

    @property
    def sizes(self) -> dict[str, int]:
        return dict(self.ranks)

    @property
    def macs(self) -> int:
        return math.prod(s for _, s in self.ranks)

    @property
    def output(self) -> TensorAccess:
        return next(t for t in self.tensors if t.role == "output")

    @property
    def reduced(self) -> frozenset[str]:
        return frozenset(r for r, _ in self.ranks) - self.output.ranks


def gemm(b: int, m: int, k: int, n: int, input_bytes: float = 2.0, weight_bytes: float = 2.0,
         output_bytes: float = 2.0, name: str = "gemm") -> Problem:
    """`b` products (m × k)·(k × n): input A[B,M,K], weight W[B,K,N], output Z[B,M,N]; ranks of
    size 1 are dropped."""
    sizes = {"B": b, "M": m, "K": k, "N": n}
    keep = {r for r, s in sizes.items() if s > 1}
    acc = [("A", "input", "BMK", input_bytes), ("W", "weight", "BKN", weight_bytes), ("Z", "output", "BMN", output_bytes)]
    tensors = tuple(TensorAccess(t, role, frozenset(set(rs) & keep), by) for t, role, rs, by in acc)
    return Problem(name, tuple((r, s) for r, s in sizes.items() if r in keep), tensors)


@dataclass(frozen=True)
class Nest:
    """The loops of one mapping: `temporal[i]` the loops of level i (outer → inner), `spatial` the
    fan-out level's spatial loops `(dimension, rank, factor)`."""

    temporal: tuple[tuple[tuple[str, int], ...], ...]
    spatial: tuple[tuple[str, str, int], ...] = ()

    def extent(self, rank: str) -> int:
        """The rank's padded extent: the product of all its bounds."""
        t = math.prod(b for loops in self.temporal for r, b in loops if r == rank)
        return t * math.prod(f for _, r, f in self.spatial if r == rank)

    def text(self, level_names: tuple[str, ...], fanout_level: int) -> str:
        """The nest as indented pseudo-code, one loop a line (Timeloop's mapping print-out)."""
        lines, depth = [], 0
        for i, loops in enumerate(self.temporal):
            lines.append("  " * depth + f"[{level_names[i]}]")
            for rank, bound in loops:
                if bound > 1:
                    lines.append("  " * depth + f"for {rank.lower()}{i} in [0:{bound})")
                    depth += 1
            if i == fanout_level:
                for dim, rank, factor in self.spatial:
                    if factor > 1:
                        lines.append("  " * depth + f"spatial_for {rank.lower()}{i}s in [0:{factor}) over {dim}")
                        depth += 1
        lines.append("  " * depth + "MAC")
        return "\n".join(lines)

    def as_dict(self, level_names: tuple[str, ...]) -> dict:
        return {"temporal": {level_names[i]: [[r, b] for r, b in loops] for i, loops in enumerate(self.temporal)},
                "spatial": [[d, r, f] for d, r, f in self.spatial]}

    def to_json(self, level_names: tuple[str, ...]) -> str:
        return json.dumps(self.as_dict(level_names))


@dataclass(frozen=True)
class NestPlan:
    """The plan of one Einsum mapped as a loop nest: what `mappers.mapspace` hands the simulator
    (`sim.pe_array.simulate`, `sim.pe_array.bitserial`), which costs it again with
    `sim.pe_array.cost.evaluate`; `attention`: the static operand is the K/V cache (the bit-serial
    array's datatype and term cycles differ)."""

    problem: Problem
    nest: Nest
    objective: str = "latency"
    evaluated: int = 0
    attention: bool = False
