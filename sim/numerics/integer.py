"""Integer element formats, 2 to 8 bits.

* signed (two's complement) — codes are the low `bits` bits of the integer; range
  [-2^(b-1), 2^(b-1) - 1];
* signed *symmetric* — the same codes with the most negative one (-2^(b-1)) unused, so the range
  is ±(2^(b-1) - 1), the usual absmax-scaled weight quantizer (e.g. BitMoD's INT baseline);
* unsigned — code k is the value k, range [0, 2^b - 1]; with a per-group zero point this is the
  asymmetric INT quantizer (see `sim.numerics.quantizers.quantize_int_asymmetric`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.numerics.datatype import Datatype
from workloads.errors import SpecError


@dataclass(frozen=True, repr=False)
class IntFormat(Datatype):
    """An integer format; `scale` multiplies every value (MXINT8 elements are ints times 2^-6)."""

    name: str
    bits: int
    signed: bool = True
    symmetric: bool = False
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not 2 <= self.bits <= 8:
            raise SpecError(f"integer width must be 2..8 bits, got {self.bits}")

    @property
    def int_min(self) -> int:
        if not self.signed:
            return 0
        return -(1 << (self.bits - 1)) + (1 if self.symmetric else 0)

    @property
    def int_max(self) -> int:
        return (1 << self.bits) - 1 if not self.signed else (1 << (self.bits - 1)) - 1

    @property
    def emax(self) -> int:
        """floor(log2(max magnitude)), the OCP MX emax_elem of this element type."""
        return int(np.floor(np.log2(self.max_abs)))

    def code_to_int(self, codes: np.ndarray) -> np.ndarray:
        codes = np.asarray(codes, dtype=np.int64)
        if not self.signed:
            return codes
        return np.where(codes >= (1 << (self.bits - 1)), codes - (1 << self.bits), codes)

    def _decode_all(self) -> np.ndarray:
        ints = self.code_to_int(np.arange(1 << self.bits))
        val = ints.astype(np.float64) * self.scale
        if self.symmetric:
            val = np.where(ints < self.int_min, np.nan, val)
        return val


def int_format(bits: int, signed: bool = True, symmetric: bool = False) -> IntFormat:
    """INT`bits` (e.g. `int_format(4)` is INT4 [-8, 7]; `symmetric=True` gives [-7, 7])."""
    kind = "uint" if not signed else ("int" if not symmetric else "int_sym")
    return IntFormat(f"{kind}{bits}", bits, signed=signed, symmetric=symmetric)
