"""Per-Einsum accounting: operations by operator kind and bytes moved per tensor.

Counts are dense (masked positions of causal attention are counted; a mapper that skips
fully-masked tiles reports its own savings). Bytes are compulsory traffic: each tensor an
Einsum touches is read (or written) once at its datatype, over the elements its access reaches.
A `gather` reads one table row per index; an `append` writes only the new cache entries.
"""
from __future__ import annotations

from dataclasses import dataclass

from .einsum import Access, Einsum
from .ops import REDUCE_COUNT_NAME
from .tensor import TensorSpec


@dataclass(frozen=True)
class EinsumStats:
    name: str
    iterations: int
    ops: dict[str, int]
    macs: int
    bytes_read: dict[str, float]
    bytes_written: dict[str, float]

    @property
    def total_ops(self) -> int:
        return sum(self.ops.values())

    @property
    def total_read(self) -> float:
        return sum(self.bytes_read.values())

    @property
    def total_written(self) -> float:
        return sum(self.bytes_written.values())

    @property
    def intensity(self) -> float:
        """Operations per byte of compulsory traffic (a MAC counts as two operations)."""
        moved = self.total_read + self.total_written
        return self.total_ops / moved if moved else float("inf")


def _prod(values) -> int:
    n = 1
    for v in values:
        n *= v
    return n


def footprint(access: Access, spec: TensorSpec, rank_sizes: dict[str, int]) -> int:
    """Elements of `spec` the access reaches (per-rank index range, clipped to the tensor)."""
    ranges = {r: (0, rank_sizes[r]) for r in access.ranks}
    n = 1
    for expr, size in zip(access.index, spec.shape):
        lo, hi = expr.bounds(ranges)
        n *= max(0, min(hi, size - 1) - max(lo, 0) + 1)
    return n


def einsum_stats(e: Einsum, tensors: dict[str, TensorSpec], rank_sizes: dict[str, int]) -> EinsumStats:
    out_spec = tensors[e.output.tensor]
    reads: dict[str, float] = {}
    ops: dict[str, int] = {}
    macs = 0
    if e.kind == "gather":
        table, idx = tensors[e.inputs[0].tensor], tensors[e.inputs[1].tensor]
        reads[table.name] = out_spec.elements * table.bytes / table.elements
        reads[idx.name] = idx.bytes
        written = {out_spec.name: out_spec.bytes}
        iterations = out_spec.elements
    elif e.kind == "append":
        new = tensors[e.inputs[1].tensor]
        reads[new.name] = new.bytes
        written = {out_spec.name: new.elements * out_spec.bytes / out_spec.elements}
        iterations = new.elements
    else:
        iterations = _prod(rank_sizes[r] for r in e.ranks)
        out_elems = _prod(rank_sizes[r] for r in e.output.ranks)

        def add(op: str, n: int) -> None:
            ops[op] = ops.get(op, 0) + n

        if e.map_op is not None:
            add(e.map_op, iterations)
        for u in e.pre:
            add(u.count_name, iterations)
        if e.reduce_op is not None:
            add(REDUCE_COUNT_NAME[e.reduce_op], iterations - out_elems)
        for u in e.post:
            add(u.count_name, out_elems)
        if e.map_op == "mul" and e.reduce_op == "sum":
            macs = iterations
        for acc in e.inputs:
            spec = tensors[acc.tensor]
            touched = footprint(acc, spec, rank_sizes) * spec.bytes / spec.elements
            reads[spec.name] = max(reads.get(spec.name, 0.0), touched)
        written = {out_spec.name: footprint(e.output, out_spec, rank_sizes) * out_spec.bytes / out_spec.elements}
    return EinsumStats(e.name, iterations, ops, macs, reads, written)
