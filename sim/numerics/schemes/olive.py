"""`olive`: OliVe outlier-victim pairs, per-group scale searched for lowest MSE (Guo et al., ISCA 2023)."""
from sim.numerics.quantizers import quantize_olive
from sim.numerics.registry import Scheme, register

SCHEME = register(Scheme("olive", quantize_olive, bits=(3, 4), order=5, source="Guo et al., OliVe, ISCA 2023"))
