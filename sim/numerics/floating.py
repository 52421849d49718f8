"""Binary floating-point element formats with any exponent/mantissa split.

Code layout `sign | exponent (E bits) | mantissa (M bits)`, exponent bias `2**(E-1) - 1` unless
given. Exponent field 0 encodes subnormals `(-1)^s * 2^(1-bias) * m/2^M`; any other field
`(-1)^s * 2^(e-bias) * (1 + m/2^M)`. What the all-ones exponent means is the format's
*special-value convention*:

* ``"ieee"`` — IEEE 754: all-ones exponent is ±inf (mantissa 0) or NaN (FP16, BF16, OCP E5M2).
* ``"fn"`` — OCP FP8 E4M3: no infinities; only all-ones exponent *and* mantissa is NaN, so the
  largest normal is 1.75 * 2^8 = 448 (OCP 8-bit Floating Point Specification (OFP8) rev 1.0, Table 1).
* ``"finite"`` — every code is a number: OCP MX FP6 E2M3/E3M2 and FP4 E2M1 (OCP Microscaling
  Formats (MX) v1.0 spec, §5.3.2–5.3.3), and the 3-bit E1M1/E2M0 formats BitMoD uses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim.numerics.datatype import Datatype

SpecialValues = Literal["ieee", "fn", "finite"]


@dataclass(frozen=True, repr=False)
class FloatFormat(Datatype):
    """A signed binary float of `1 + exponent_bits + mantissa_bits` bits."""

    name: str
    exponent_bits: int
    mantissa_bits: int
    special: SpecialValues = "finite"
    bias: int | None = None

    @property
    def bits(self) -> int:  # type: ignore[override]
        return 1 + self.exponent_bits + self.mantissa_bits

    @property
    def exponent_bias(self) -> int:
        return (1 << (self.exponent_bits - 1)) - 1 if self.bias is None else self.bias

    @property
    def emax(self) -> int:
        """Exponent of the largest normal binade, floor(log2(max normal)) (OCP MX's emax_elem)."""
        return int(np.floor(np.log2(self.max_abs)))

    def fields(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sign, biased exponent, mantissa) fields of each code."""
        codes = np.asarray(codes, dtype=np.int64)
        m = codes & ((1 << self.mantissa_bits) - 1)
        e = (codes >> self.mantissa_bits) & ((1 << self.exponent_bits) - 1)
        s = codes >> (self.exponent_bits + self.mantissa_bits)
        return s, e, m

    def _decode_all(self) -> np.ndarray:
        codes = np.arange(1 << self.bits, dtype=np.int64)
        s, e, m = self.fields(codes)
        bias = self.exponent_bias
        frac = m / float(1 << self.mantissa_bits)
        mag = np.where(
            e == 0,
            np.ldexp(frac, 1 - bias),
            np.ldexp(1.0 + frac, (e - bias).astype(np.int64)),
        )
        val = np.where(s == 1, -mag, mag)
        e_all = (1 << self.exponent_bits) - 1
        m_all = (1 << self.mantissa_bits) - 1
        if self.special == "ieee":
            val = np.where((e == e_all) & (m == 0), np.where(s == 1, -np.inf, np.inf), val)
            val = np.where((e == e_all) & (m != 0), np.nan, val)
        elif self.special == "fn":
            val = np.where((e == e_all) & (m == m_all), np.nan, val)
        return val


@dataclass(frozen=True, repr=False)
class E8M0(Datatype):
    """OCP MX shared-scale format: unsigned 8-bit exponent, value 2^(code-127); code 255 is NaN.

    Source: OCP Microscaling Formats (MX) v1.0 spec, §5.4.1 (E8M0 scale: no sign, no mantissa,
    bias 127, 0xFF = NaN, no zero or infinity).
    """

    name: str = "e8m0"
    bits: int = 8
    bias: int = 127

    def _decode_all(self) -> np.ndarray:
        codes = np.arange(256, dtype=np.int64)
        val = np.ldexp(1.0, codes - self.bias)
        return np.where(codes == 255, np.nan, val)


# BitMoD (Chen et al., HPCA 2025, §III) builds its 3-bit types on the E2M0 grid {0, ±1, ±2, ±4}
# and its 4-bit types on E2M1 {0, ±0.5, …, ±6}; E1M1 is the other 3-bit split.
FP3_E1M1 = FloatFormat("fp3_e1m1", 1, 1)
FP3_E2M0 = FloatFormat("fp3_e2m0", 2, 0)
FP4_E2M1 = FloatFormat("fp4_e2m1", 2, 1)
FP6_E2M3 = FloatFormat("fp6_e2m3", 2, 3)
FP6_E3M2 = FloatFormat("fp6_e3m2", 3, 2)
FP8_E4M3 = FloatFormat("fp8_e4m3", 4, 3, special="fn")
FP8_E5M2 = FloatFormat("fp8_e5m2", 5, 2, special="ieee")
BF16 = FloatFormat("bf16", 8, 7, special="ieee")
FP16 = FloatFormat("fp16", 5, 10, special="ieee")
E8M0_SCALE = E8M0()
