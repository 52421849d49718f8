"""Operators of extended Einsums (TeAAL, FuseMax): binary map, reduce, and unary.

Each operator has a numpy implementation (the float64 functional reference) and a name that op
counts are keyed by, so a hardware model can cost `exp` differently from `mul`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError
from .index import Affine

MAP_OPS = {
    "mul": np.multiply,
    "add": np.add,
    "sub": np.subtract,
    "div": np.divide,
    "max": np.maximum,
    "min": np.minimum,
}

REDUCE_OPS = {
    "sum": np.sum,
    "max": np.max,
    "min": np.min,
}

# Selections (Mixture-of-Experts routing): reduce a rank X into the output's selection rank K,
# the one output rank no input names. Element k of `topk` is the (k+1)-th largest value over X,
# of `argtopk` its index along X (ties: the lower index first). Counted as K passes of a
# max-reduction over X, i.e. K*(X-1) comparisons per output row (op `max`).
SELECT_OPS = ("topk", "argtopk")

# Operation name used in op counts for each reduction (a sum-reduction is a chain of adds).
REDUCE_COUNT_NAME = {"sum": "add", "max": "max", "min": "min", "topk": "max", "argtopk": "max"}

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation (Hendrycks & Gimpel 2016, eq. for GPT-2's `gelu_new`)."""
    return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))


def _gelu_erf(x: np.ndarray) -> np.ndarray:
    """Exact GELU x*Phi(x) (BERT), with erf evaluated elementwise by math.erf."""
    return 0.5 * x * (1.0 + np.vectorize(math.erf, otypes=[float])(x / math.sqrt(2.0)))


def _silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def select(op: str, value: np.ndarray, along: int, slot: int, first: int) -> np.ndarray:
    """`topk`/`argtopk` of `value` (broadcast over the selection axis `slot`) along axis `along`:
    position k of axis `slot` (k counted from `first`) takes the (k+1)-th largest along `along`,
    or its index; the axis `along` is removed."""
    order = np.argsort(-value, axis=along, kind="stable")
    shape = [1] * value.ndim
    shape[slot] = value.shape[slot]
    rank = np.arange(first, first + value.shape[slot]).reshape(shape)
    picked = np.take_along_axis(order, np.broadcast_to(rank, order.shape[:along] + (1,) + order.shape[along + 1:]), axis=along)
    out = picked if op == "argtopk" else np.take_along_axis(value, picked, axis=along)
    return np.squeeze(out, axis=along).astype(np.float64)


UNARY_FUNCS = {
    "exp": np.exp,
    "gelu": _gelu_erf,
    "gelu_tanh": _gelu_tanh,
    "silu": _silu,
    "relu": lambda x: np.maximum(x, 0.0),
    "rsqrt": lambda x: 1.0 / np.sqrt(x),
    "sqrt": np.sqrt,
    "reciprocal": lambda x: 1.0 / x,
    "neg": np.negative,
    "tanh": np.tanh,  # Gemma-2's logit soft-capping: cap * tanh(x / cap)
}

# Unary operators that take a constant: scale (x*c) and offset (x+c).
PARAM_UNARY = {"scale": np.multiply, "offset": np.add}

# Parameterized unary operators count as the operation they perform.
UNARY_COUNT_NAME = {"scale": "mul", "offset": "add", "mask": "mask"}


@dataclass(frozen=True)
class Unary:
    """A pointwise operator.

    `kind` is one of UNARY_FUNCS, `scale`/`offset` (with `value`), or `mask`: positions where
    `index > bound` are set to `fill` (-inf by default): causal masking with index = key
    position and bound = query position, or padding of a partitioned rank with bound = size-1.
    """

    kind: str
    value: float | None = None
    index: Affine | None = None
    bound: Affine | None = None
    fill: float = -np.inf

    def __post_init__(self) -> None:
        if self.kind in UNARY_FUNCS:
            return
        if self.kind in PARAM_UNARY and self.value is not None:
            return
        if self.kind == "mask" and self.index is not None and self.bound is not None:
            return
        allowed = ", ".join([*UNARY_FUNCS, "scale(c)", "offset(c)", "mask(index, bound)"])
        raise SpecError(f"bad unary operator {self.kind!r}; allowed: {allowed}")

    @property
    def count_name(self) -> str:
        return UNARY_COUNT_NAME.get(self.kind, self.kind)

    @property
    def ranks(self) -> tuple[str, ...]:
        if self.kind != "mask":
            return ()
        return tuple(sorted(set(self.index.ranks) | set(self.bound.ranks)))

    def apply(self, x: np.ndarray, axes: tuple[str, ...], ranges: dict[str, tuple[int, int]]) -> np.ndarray:
        if self.kind in UNARY_FUNCS:
            return UNARY_FUNCS[self.kind](x)
        if self.kind in PARAM_UNARY:
            return PARAM_UNARY[self.kind](x, self.value)
        masked = self.index.values(axes, ranges) > self.bound.values(axes, ranges)
        return np.where(masked, self.fill, x)

    def __str__(self) -> str:
        if self.kind in PARAM_UNARY:
            return f"{self.kind}({self.value:g})"
        if self.kind == "mask":
            return f"mask({self.index}>{self.bound})"
        return self.kind


def scale(c: float) -> Unary:
    return Unary("scale", float(c))


def offset(c: float) -> Unary:
    return Unary("offset", float(c))


def mask(index: str, bound: str, fill: float = -np.inf) -> Unary:
    """`fill` where `index > bound`; both are affine expressions such as `M` and `P+1023`."""
    return Unary("mask", index=Affine.parse(index), bound=Affine.parse(bound), fill=fill)


def unary(kind: str) -> Unary:
    return Unary(kind)
