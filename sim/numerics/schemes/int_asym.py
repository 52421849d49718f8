"""`int-asym`: asymmetric INT with a per-group integer zero point (the BitMoD authors' baseline)."""
from sim.numerics.integer import int_format
from sim.numerics.quantizers import quantize_int_asymmetric
from sim.numerics.registry import Scheme, register

SCHEME = register(Scheme(
    "int-asym", quantize_int_asymmetric, bits=(3, 4), order=1,
    source="min/max scaling with zero point, as in the BitMoD authors' scripts",
    datatypes=(int_format(3, signed=False), int_format(4, signed=False)),
))
