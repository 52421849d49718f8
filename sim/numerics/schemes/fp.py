"""`fp`: plain absmax-scaled FP (3 bits: E2M0 {0, ±1, ±2, ±4}; 4 bits: E2M1), BitMoD's FP baseline."""
from sim.numerics.bitmod import BITMOD_BASE
from sim.numerics.quantizers import QuantSpec, Quantized, quantize_symmetric
from sim.numerics.registry import Scheme, register


def quantize_fp(w, bits: int, spec: QuantSpec) -> Quantized:
    return quantize_symmetric(w, BITMOD_BASE[bits], spec)


SCHEME = register(Scheme("fp", quantize_fp, bits=(3, 4), order=2, source="BitMoD §III (E2M0 is its FP3); OCP MX v1.0 E2M1",
                         datatypes=tuple(BITMOD_BASE.values())))
