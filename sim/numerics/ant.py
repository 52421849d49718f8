"""ANT's adaptive numerical types: int, power-of-two (PoT) and flint.

Source: C. Guo et al., "ANT: Exploiting Adaptive Numerical Data Type for Low-bit Deep Neural
Network Quantization", MICRO 2022. ANT stores a sign bit and a (b-1)-bit magnitude code and picks,
per tensor, the type with the lowest quantization error:

* int — magnitudes 0 .. 2^(b-1) - 1 (a symmetric integer);
* PoT — magnitude code 0 is 0, code k ≥ 1 is 2^(k-1);
* flint — "float-int": small codes are integers, large codes grow exponentially (first-one
  exponent encoding). Magnitudes used here: 3-bit flint {0, 1, 2, 4}, 4-bit flint
  {0, 1, 2, 3, 4, 6, 8, 16}, the value lists BitMoD (HPCA 2025) compares against for ANT.
Magnitude codes are in increasing order of magnitude; the −0 code is unused (decodes to 0).
"""
from __future__ import annotations

import numpy as np

from sim.numerics.datatype import TableDatatype
from sim.numerics.integer import int_format
from workloads.errors import SpecError

FLINT_MAGNITUDES: dict[int, tuple[float, ...]] = {
    3: (0.0, 1.0, 2.0, 4.0),
    4: (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0),
}


def _sign_magnitude(name: str, bits: int, magnitudes: tuple[float, ...]) -> TableDatatype:
    mags = np.asarray(magnitudes, dtype=np.float64)
    return TableDatatype(name, bits, tuple(np.concatenate([mags, -mags]).tolist()))


def flint(bits: int) -> TableDatatype:
    """ANT flint of `bits` bits (3 or 4)."""
    if bits not in FLINT_MAGNITUDES:
        raise SpecError(f"flint is defined here for 3 or 4 bits, got {bits}")
    return _sign_magnitude(f"flint{bits}", bits, FLINT_MAGNITUDES[bits])


def pot(bits: int) -> TableDatatype:
    """ANT power-of-two type: magnitudes {0, 1, 2, 4, …, 2^(2^(b-1) - 2)}."""
    n = 1 << (bits - 1)
    mags = (0.0,) + tuple(float(2**k) for k in range(n - 1))
    return _sign_magnitude(f"pot{bits}", bits, mags)


def ant_candidates(bits: int):
    """ANT's type set at `bits` bits: int, flint, PoT (duplicates of the same grid dropped)."""
    out, seen = [], set()
    for dt in (int_format(bits, symmetric=True), flint(bits), pot(bits)):
        key = tuple(dt.values().tolist())
        if key not in seen:
            seen.add(key)
            out.append(dt)
    return tuple(out)
