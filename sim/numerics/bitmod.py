"""BitMoD's 3- and 4-bit float variants that give the redundant −0 code one extra value.

Source: Y. Chen et al., "BitMoD: Bit-serial Mixture-of-Datatype LLM Acceleration", HPCA 2025
(arXiv:2411.11745), §III-B and the authors' published value lists. A sign-magnitude float has
two zeros; BitMoD re-labels the −0 code (sign bit set, every other bit 0) with one *special
value*:

* FP3 (the E2M0 grid {0, ±1, ±2, ±4}): ±3 adds *extra resolution* (between 2 and 4), ±6 adds
  *extra asymmetry* (beyond the largest magnitude on one side);
* FP4 (E2M1 {0, ±0.5, ±1, ±1.5, ±2, ±3, ±4, ±6}): ±5 extra resolution, ±8 extra asymmetry.

"±" means two variants, one adding +v and one adding −v, so each width has four variants. The
per-group choice among them (lowest mean squared error, 2 bits of metadata per group) is in
`sim.numerics.quantizers.bitmod_select`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.numerics.datatype import Datatype
from sim.numerics.floating import FP3_E2M0, FP4_E2M1, FloatFormat


@dataclass(frozen=True, repr=False)
class BitmodFormat(Datatype):
    """`base` with its −0 code decoding to `extra_value` (in the base format's units)."""

    name: str
    base: FloatFormat
    extra_value: float

    @property
    def bits(self) -> int:  # type: ignore[override]
        return self.base.bits

    @property
    def extra_code(self) -> int:
        """The code BitMoD repurposes: the base format's −0."""
        return 1 << (self.base.bits - 1)

    def _decode_all(self) -> np.ndarray:
        decoded = self.base._decode_all().copy()
        decoded[self.extra_code] = self.extra_value
        return decoded


def _variant(base: FloatFormat, tag: str, value: float) -> BitmodFormat:
    sign = "pos" if value > 0 else "neg"
    width = base.bits
    return BitmodFormat(f"fp{width}_{tag}_{sign}", base, float(value))


FP3_ER_POS = _variant(FP3_E2M0, "er", 3.0)
FP3_ER_NEG = _variant(FP3_E2M0, "er", -3.0)
FP3_EA_POS = _variant(FP3_E2M0, "ea", 6.0)
FP3_EA_NEG = _variant(FP3_E2M0, "ea", -6.0)
FP4_ER_POS = _variant(FP4_E2M1, "er", 5.0)
FP4_ER_NEG = _variant(FP4_E2M1, "er", -5.0)
FP4_EA_POS = _variant(FP4_E2M1, "ea", 8.0)
FP4_EA_NEG = _variant(FP4_E2M1, "ea", -8.0)

BITMOD_BASE: dict[int, FloatFormat] = {3: FP3_E2M0, 4: FP4_E2M1}
BITMOD_CANDIDATES: dict[int, tuple[BitmodFormat, ...]] = {
    3: (FP3_ER_POS, FP3_ER_NEG, FP3_EA_POS, FP3_EA_NEG),
    4: (FP4_ER_POS, FP4_ER_NEG, FP4_EA_POS, FP4_EA_NEG),
}
