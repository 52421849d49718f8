"""Weights as signed power-of-two terms, the way a bit-serial PE consumes them.

A bit-serial PE multiplies an activation by a weight one *term* per cycle: each term is
c · 2^k with c ∈ {−1, 0, +1}, applied as a shift and an add/subtract. The number of term-cycles
a datatype needs is fixed by the hardware, not by the value, so zero terms pad short codes.

* Integers — radix-4 Booth recoding (the encoding BitMoD's PE uses for INT weights): a b-bit
  two's-complement integer has ceil(b/2) digits d_i ∈ {−2, −1, 0, 1, 2}, value Σ d_i · 4^i, and
  each digit is one term (±2 = ±2^(2i+1)). INT4 → 2 cycles, INT6 → 3, INT8 → 4.
* Floats and BitMoD's variants — BitMoD's *unified representation* (Chen et al., HPCA 2025,
  §IV-A): a weight is sign × Σ 2^k over the set bits of its significand (mantissa with the
  implicit bit, shifted by the exponent). E2M1 has a 2-bit significand, so two terms; the
  BitMoD extra values fit the same two slots (5 = 4 + 1, 8 = 8, 3 = 2 + 1, 6 = 4 + 2), and the
  PE gives every FP3/FP4 code two term-cycles. Wider floats take one cycle per significand bit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.numerics.datatype import Datatype
from sim.numerics.integer import IntFormat
from workloads.errors import SpecError

BITMOD_FP_TERM_CYCLES = 2


@dataclass(frozen=True)
class Term:
    """One term c · 2^exponent, c ∈ {−1, 0, 1}."""

    coefficient: int
    exponent: int

    @property
    def value(self) -> float:
        return float(self.coefficient) * 2.0**self.exponent


def booth_radix4_digits(value: int, bits: int) -> tuple[int, ...]:
    """Radix-4 Booth digits of a `bits`-wide two's-complement integer, least significant first."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not lo <= value <= hi:
        raise SpecError(f"{value} does not fit a {bits}-bit two's-complement integer")
    n_digits = (bits + 1) // 2
    u = value & ((1 << (2 * n_digits)) - 1)  # sign-extended to an even width
    digits, prev = [], 0
    for i in range(n_digits):
        b0 = (u >> (2 * i)) & 1
        b1 = (u >> (2 * i + 1)) & 1
        digits.append(-2 * b1 + b0 + prev)
        prev = b1
    return tuple(digits)


def _unit_exponent(dtype: Datatype) -> int:
    """Exponent of the finest power of two every value of `dtype` is a multiple of."""
    v = np.abs(dtype.values())
    v = v[v > 0]
    _, exps = np.frexp(v)
    k = -60
    while not np.all(np.mod(v, 2.0**k) == 0):
        k -= 1
    while np.all(np.mod(v, 2.0 ** (k + 1)) == 0) and k + 1 <= int(exps.max()):
        k += 1
    return k


def lookup(dtype: Datatype | str) -> Datatype:
    """`dtype` itself, or the registered datatype of that name (`sim.numerics.registry`)."""
    if isinstance(dtype, str):
        from sim.numerics.registry import datatype

        return datatype(dtype)
    return dtype


def term_cycles(dtype: Datatype | str) -> int:
    """Term-cycles per weight of `dtype` (a datatype or a registered name) on a bit-serial PE
    (see the module docstring)."""
    dtype = lookup(dtype)
    if isinstance(dtype, IntFormat):
        return (dtype.bits + 1) // 2
    unit = _unit_exponent(dtype)
    ints = np.abs(dtype.values()) / 2.0**unit
    most = max(bin(int(n)).count("1") for n in ints)
    return max(BITMOD_FP_TERM_CYCLES, most) if dtype.bits <= 4 else max(1, most)


def unified_terms(dtype: Datatype | str, code: int) -> tuple[Term, ...]:
    """The `term_cycles(dtype)` terms whose values sum to the value of `code`."""
    dtype = lookup(dtype)
    value = float(dtype.decode(code))
    if not np.isfinite(value):
        raise SpecError(f"{dtype.name}: code {code} is not a number and has no terms")
    cycles = term_cycles(dtype)
    if isinstance(dtype, IntFormat):
        base = int(np.log2(dtype.scale))
        return tuple(
            Term(int(np.sign(d)), 2 * i + (1 if abs(d) == 2 else 0) + base) if d else Term(0, 2 * i + base)
            for i, d in enumerate(booth_radix4_digits(int(round(value / dtype.scale)), dtype.bits))
        )
    unit = _unit_exponent(dtype)
    n = int(round(abs(value) / 2.0**unit))
    sign = -1 if value < 0 else 1
    terms = [Term(sign, k + unit) for k in range(n.bit_length() - 1, -1, -1) if (n >> k) & 1]
    return tuple(terms) + tuple(Term(0, unit) for _ in range(cycles - len(terms)))
