"""`ant`: ANT — one of int / flint / PoT per tensor (lowest MSE), per-group scales (Guo et al., MICRO 2022)."""
from sim.numerics.ant import ant_candidates
from sim.numerics.quantizers import QuantSpec, Quantized, select_per_tensor
from sim.numerics.registry import Scheme, register


def quantize_ant(w, bits: int, spec: QuantSpec) -> Quantized:
    return select_per_tensor(w, ant_candidates(bits), spec)


SCHEME = register(Scheme("ant", quantize_ant, bits=(3, 4), order=4, choice="tensor",
                         source="Guo et al., ANT, MICRO 2022 (value lists as BitMoD compares them)",
                         datatypes=(*ant_candidates(3), *ant_candidates(4))))
