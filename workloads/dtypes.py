"""Storage widths of the datatypes a cascade's tensors may carry.

The IR only needs how many bits an element occupies in memory (for byte counts); the values
and encodings of each datatype live in `sim.numerics`. Sub-byte types count fractional bytes
(INT4 weights are 0.5 B), which is how packed storage behaves.
"""
from __future__ import annotations

from .errors import SpecError

BITS: dict[str, int] = {
    "fp64": 64,
    "fp32": 32,
    "tf32": 32,
    "fp16": 16,
    "bf16": 16,
    "fp8": 8,
    "fp8_e4m3": 8,
    "fp8_e5m2": 8,
    "fp6": 6,
    "fp4": 4,
    "fp3": 3,
    "int32": 32,
    "int16": 16,
    "int8": 8,
    "int6": 6,
    "int4": 4,
    "int3": 3,
    "int2": 2,
}


def bits(dtype: str) -> int:
    try:
        return BITS[dtype]
    except KeyError:
        raise SpecError(f"unknown datatype {dtype!r}; allowed: {', '.join(BITS)}") from None


def nbytes(dtype: str, elements: int) -> float:
    """Bytes occupied by `elements` values of `dtype`, packed."""
    return elements * bits(dtype) / 8
