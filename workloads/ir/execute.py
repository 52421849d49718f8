"""Functional execution of one Einsum in numpy (float64): the reference every lowering and
every hardware model's functional check is compared against.

`ranges` binds each iteration rank to a half-open interval; the cascade narrows an iterative
rank to one step at a time when Einsums form a recurrence over it.
"""
from __future__ import annotations

import numpy as np

from .einsum import Access, Einsum
from .ops import MAP_OPS, REDUCE_OPS, SELECT_OPS, select
from .tensor import TensorSpec

Ranges = dict[str, tuple[int, int]]


def read(access: Access, spec: TensorSpec, value: np.ndarray, ranges: Ranges) -> tuple[np.ndarray, tuple[str, ...]]:
    """The accessed elements as an array with one axis per rank the access names."""
    axes = access.ranks
    if access.is_plain() and all(ranges[r] == (0, n) for r, n in zip(axes, spec.shape)):
        return value, axes
    index = [expr.values(axes, ranges) for expr in access.index]
    if access.fill is None:
        return value[tuple(index)] if index else value, axes
    valid = np.ones((1,) * len(axes), dtype=bool)
    clipped = []
    for idx, size in zip(index, spec.shape):
        valid = valid & (idx >= 0) & (idx < size)
        clipped.append(np.clip(idx, 0, size - 1))
    return np.where(valid, value[tuple(clipped)], access.fill), axes


def _expand(arr: np.ndarray, arr_axes: tuple[str, ...], axes: tuple[str, ...]) -> np.ndarray:
    """Transpose/reshape `arr` so it broadcasts over `axes`."""
    present = [a for a in axes if a in arr_axes]
    arr = np.transpose(arr, [arr_axes.index(a) for a in present]) if arr_axes else arr
    shape = [arr.shape[present.index(a)] if a in present else 1 for a in axes]
    return arr.reshape(shape)


def compute(einsum: Einsum, specs: dict[str, TensorSpec], values: dict[str, np.ndarray], ranges: Ranges) -> np.ndarray:
    """The Einsum's result over its output ranks (in `einsum.output.ranks` order)."""
    axes = einsum.ranks
    out_axes = einsum.output.ranks
    operands = [read(a, specs[a.tensor], values[a.tensor], ranges) for a in einsum.inputs]
    if einsum.map_op == "mul" and einsum.reduce_op in ("sum", None) and not einsum.pre:
        letters = {r: i for i, r in enumerate(axes)}
        args: list = []
        for arr, arr_axes in operands:
            args += [arr, [letters[r] for r in arr_axes]]
        value = np.einsum(*args, [letters[r] for r in out_axes], optimize=True)
    else:
        expanded = [_expand(arr, arr_axes, axes) for arr, arr_axes in operands]
        value = expanded[0] if len(expanded) == 1 else MAP_OPS[einsum.map_op](*expanded)
        for u in einsum.pre:
            value = u.apply(value, axes, ranges)
        value = np.broadcast_to(value, [ranges[r][1] - ranges[r][0] for r in axes])
        reduced = einsum.reduced_ranks
        if einsum.reduce_op in SELECT_OPS:
            slot = einsum.selection_rank
            value = select(einsum.reduce_op, value, axes.index(reduced[0]), axes.index(slot), ranges[slot][0])
        elif reduced:
            value = REDUCE_OPS[einsum.reduce_op](value, axis=tuple(axes.index(r) for r in reduced))
    for u in einsum.post:
        value = u.apply(value, out_axes, ranges)
    return value


def write(access: Access, spec: TensorSpec, target: np.ndarray, value: np.ndarray, ranges: Ranges) -> None:
    axes = access.ranks
    index = tuple(expr.values(axes, ranges) for expr in access.index)
    target[index] = value


def gather(einsum: Einsum, specs: dict[str, TensorSpec], values: dict[str, np.ndarray]) -> np.ndarray:
    """`out = table[indices, ...]` along the table's rank `einsum.along`, in output rank order."""
    table_acc, idx_acc = einsum.inputs
    table_spec, idx_spec = specs[table_acc.tensor], specs[idx_acc.tensor]
    axis = table_spec.ranks.index(einsum.along)
    taken = np.take(values[table_acc.tensor], values[idx_acc.tensor].astype(np.int64), axis=axis)
    names = table_spec.ranks[:axis] + idx_spec.ranks + table_spec.ranks[axis + 1 :]
    out_ranks = tuple(e.plain_rank for e in einsum.output.index)
    return np.transpose(taken, [names.index(r) for r in out_ranks])


def append(einsum: Einsum, specs: dict[str, TensorSpec], values: dict[str, np.ndarray]) -> np.ndarray:
    """The cache with the new entries written at `einsum.at` along `einsum.along`."""
    cache_acc, new_acc = einsum.inputs
    out_spec = specs[einsum.output.tensor]
    axis = out_spec.ranks.index(einsum.along)
    result = np.empty(out_spec.shape)
    cache = values[cache_acc.tensor]
    new = values[new_acc.tensor]
    lead = (slice(None),) * axis
    result[lead + (slice(0, einsum.at),)] = cache[lead + (slice(0, einsum.at),)]
    result[lead + (slice(einsum.at, einsum.at + new.shape[axis]),)] = new
    return result
