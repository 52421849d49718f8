"""`int-sym`: symmetric INT ±(2^(b-1) − 1), absmax-scaled; also registers the two's-complement
INT4/INT6/INT8 the bit-serial PEs decompose with radix-4 Booth (`sim.numerics.terms`)."""
from sim.numerics.integer import int_format
from sim.numerics.quantizers import QuantSpec, Quantized, quantize_symmetric
from sim.numerics.registry import Scheme, register


def quantize_int_sym(w, bits: int, spec: QuantSpec) -> Quantized:
    return quantize_symmetric(w, int_format(bits, symmetric=True), spec)


SCHEME = register(Scheme("int-sym", quantize_int_sym, bits=(3, 4), order=6, source="the usual absmax weight quantizer",
                         datatypes=(int_format(3, symmetric=True), int_format(4, symmetric=True),
                                    *(int_format(b) for b in (4, 6, 8)))))
