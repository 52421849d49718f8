"""OCP Microscaling (MX) block formats: 32 elements sharing one E8M0 power-of-two scale.

Source: OCP Microscaling Formats (MX) Specification v1.0 (2023), §5 and §6.3. Per block of
k = 32 elements V_i, the reference conversion is

    shared_exp = floor(log2(max_i |V_i|)) − emax_elem,   X = 2^shared_exp  (E8M0, clamped to ±127)
    P_i = quantize_to_element(V_i / X)  (round-to-nearest-even, saturating to ±max normal)

with emax_elem the exponent of the element type's largest normal: FP8 E4M3 8, FP8 E5M2 15,
FP6 E2M3 2, FP6 E3M2 4, FP4 E2M1 2, INT8 0. MXINT8 elements are 8-bit two's-complement integers
with an implicit scale 2^-6; this model uses the symmetric range ±127/64 (the spec allows an
implementation to leave −2 unused). An all-zero block gets the smallest scale, 2^-127.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.numerics.datatype import Datatype
from sim.numerics.floating import (
    E8M0_SCALE,
    FP3_E2M0,
    FP4_E2M1,
    FP6_E2M3,
    FP6_E3M2,
    FP8_E4M3,
    FP8_E5M2,
)
from sim.numerics.integer import IntFormat
from workloads.errors import SpecError

MX_BLOCK_SIZE = 32
E8M0_EXP_MIN, E8M0_EXP_MAX = -127, 127


@dataclass(frozen=True)
class MXFormat:
    """An MX format: `element` type, `block_size` elements per shared E8M0 scale."""

    name: str
    element: Datatype
    block_size: int = MX_BLOCK_SIZE

    @property
    def emax_elem(self) -> int:
        return int(np.floor(np.log2(self.element.max_abs)))

    @property
    def bits_per_element(self) -> float:
        return self.element.bits + 8 / self.block_size

    def values(self) -> np.ndarray:
        """Element value set (before the shared scale)."""
        return self.element.values()

    def _blocks(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] % self.block_size:
            raise SpecError(
                f"{self.name}: last dimension {x.shape[-1]} is not a multiple of the block size "
                f"{self.block_size}"
            )
        return x.reshape(*x.shape[:-1], x.shape[-1] // self.block_size, self.block_size)

    def shared_exponent(self, blocks: np.ndarray) -> np.ndarray:
        """Unbiased shared exponent of each block (last axis = block elements)."""
        amax = np.max(np.abs(blocks), axis=-1)
        with np.errstate(divide="ignore"):
            e = np.floor(np.log2(amax)) - self.emax_elem
        e = np.where(amax > 0, e, E8M0_EXP_MIN)
        return np.clip(e, E8M0_EXP_MIN, E8M0_EXP_MAX).astype(np.int64)

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(E8M0 scale codes per block, element codes) of `x` blocked along its last axis."""
        blocks = self._blocks(x)
        e = self.shared_exponent(blocks)
        elem = self.element.quantize_codes(blocks / np.ldexp(1.0, e)[..., None])
        return (e + E8M0_SCALE.bias).astype(np.int64), elem.reshape(np.shape(x))

    def decode(self, scale_codes: np.ndarray, element_codes: np.ndarray) -> np.ndarray:
        scales = E8M0_SCALE.decode(scale_codes)
        elems = self._blocks(self.element.decode(element_codes))
        return (elems * scales[..., None]).reshape(np.shape(element_codes))

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Round-trip `x` through the format (the dequantized values)."""
        blocks = self._blocks(x)
        scale = np.ldexp(1.0, self.shared_exponent(blocks))[..., None]
        return (self.element.quantize(blocks / scale) * scale).reshape(np.shape(x))


MXINT8_ELEMENT = IntFormat("mxint8_elem", 8, symmetric=True, scale=2.0**-6)

MXFP8_E4M3 = MXFormat("mxfp8_e4m3", FP8_E4M3)
MXFP8_E5M2 = MXFormat("mxfp8_e5m2", FP8_E5M2)
MXFP6_E2M3 = MXFormat("mxfp6_e2m3", FP6_E2M3)
MXFP6_E3M2 = MXFormat("mxfp6_e3m2", FP6_E3M2)
MXFP4 = MXFormat("mxfp4", FP4_E2M1)
MXINT8 = MXFormat("mxint8", MXINT8_ELEMENT)
# Not in the OCP spec: the same block rule over the 3-bit E2M0 grid, for the 3-bit study only.
MXFP3_E2M0 = MXFormat("mxfp3_e2m0", FP3_E2M0)
