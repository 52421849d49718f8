"""OliVe's outlier-victim pair (OVP) encoding.

Source: C. Guo et al., "OliVe: Accelerating Large Language Models via Hardware-friendly
Outlier-Victim Pair Quantization", ISCA 2023 (arXiv:2304.07493). Values are taken in adjacent
pairs. A *normal* value is a b-bit symmetric integer, ±(2^(b-1) - 1); the spare two's-complement
code −2^(b-1) is the *identifier*. When one value of a pair is an outlier, its neighbour (the
*victim*) is pruned to zero and stored as the identifier, and the outlier is stored in the same
b bits as an *abfloat* (adaptive biased float): sign, (b-2) exponent bits, 1 mantissa bit, every
exponent field normal, value (1 + m/2) · 2^(e + bias). When both values are outliers the larger
magnitude is kept and the other becomes the victim.

Modelling choice (documented in docs/numerics.md): the abfloat bias is the smallest one whose
range starts above the normal range, 2^bias > 2^(b-1) - 1, so 4-bit outliers are
{8, 12, 16, 24, 32, 48, 64, 96} and 3-bit ones {4, 6, 8, 12}. A value is an outlier when it is
nearer the outlier grid than the normal grid, |x| > (int_max + outlier_min) / 2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.numerics.datatype import TableDatatype
from sim.numerics.integer import IntFormat, int_format
from workloads.errors import SpecError


def abfloat(bits: int, bias: int) -> TableDatatype:
    """Sign-magnitude abfloat: (bits-2) exponent bits, 1 mantissa bit, no subnormals or zero."""
    e_bits = bits - 2
    mags = [(1.0 + m / 2.0) * 2.0 ** (e + bias) for e in range(1 << e_bits) for m in (0, 1)]
    return TableDatatype(f"abfloat{bits}_b{bias}", bits, tuple(mags + [-v for v in mags]))


@dataclass(frozen=True)
class OliveFormat:
    """OVP format of `bits` bits per element, applied to pairs along the last axis."""

    bits: int

    def __post_init__(self) -> None:
        if self.bits < 3:
            raise SpecError(f"OliVe needs at least 3 bits per element, got {self.bits}")

    @property
    def name(self) -> str:
        return f"olive{self.bits}"

    @property
    def normal(self) -> IntFormat:
        return int_format(self.bits, symmetric=True)

    @property
    def outlier_bias(self) -> int:
        return int(np.floor(np.log2(self.normal.int_max))) + 1

    @property
    def outlier(self) -> TableDatatype:
        return abfloat(self.bits, self.outlier_bias)

    @property
    def identifier_code(self) -> int:
        return 1 << (self.bits - 1)

    @property
    def threshold(self) -> float:
        return (self.normal.int_max + float(self.outlier.values()[self.outlier.values() > 0][0])) / 2

    @property
    def max_abs(self) -> float:
        return self.outlier.max_abs

    def values(self) -> np.ndarray:
        """Every value an element can take: the normal grid united with the outlier grid."""
        return np.union1d(self.normal.values(), self.outlier.values())

    def _roles(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(is_outlier, is_victim) masks for pairs along the last axis."""
        if x.shape[-1] % 2:
            raise SpecError(f"OliVe pairs need an even last dimension, got {x.shape[-1]}")
        a, b = x[..., 0::2], x[..., 1::2]
        oa, ob = np.abs(a) > self.threshold, np.abs(b) > self.threshold
        keep_a = oa & (~ob | (np.abs(a) >= np.abs(b)))
        keep_b = ob & ~keep_a
        is_out = np.empty(x.shape, dtype=bool)
        is_vic = np.empty(x.shape, dtype=bool)
        is_out[..., 0::2], is_out[..., 1::2] = keep_a, keep_b
        is_vic[..., 0::2], is_vic[..., 1::2] = keep_b, keep_a
        return is_out, is_vic

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """OVP-quantize unit-scale values (pairs along the last axis)."""
        x = np.asarray(x, dtype=np.float64)
        is_out, is_vic = self._roles(x)
        q = np.where(is_out, self.outlier.quantize(x), self.normal.quantize(x))
        return np.where(is_vic, 0.0, q)

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Codes of OVP-quantized values: normals in two's complement, victims as the identifier."""
        x = np.asarray(x, dtype=np.float64)
        is_out, is_vic = self._roles(x)
        codes = np.where(is_out, self.outlier.quantize_codes(x), self.normal.quantize_codes(x))
        return np.where(is_vic, self.identifier_code, codes)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Values of OVP codes; an element paired with the identifier is read as an abfloat."""
        codes = np.asarray(codes, dtype=np.int64)
        if codes.shape[-1] % 2:
            raise SpecError(f"OliVe pairs need an even last dimension, got {codes.shape[-1]}")
        ident = codes == self.identifier_code
        partner_ident = np.empty_like(ident)
        partner_ident[..., 0::2], partner_ident[..., 1::2] = ident[..., 1::2], ident[..., 0::2]
        safe = np.where(ident, 0, codes)
        normal = self.normal.decode(safe)
        out = self.outlier.decode(safe)
        return np.where(ident, 0.0, np.where(partner_ident, out, normal))
