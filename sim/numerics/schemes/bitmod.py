"""`bitmod`: per group of 128, the lowest-MSE of BitMoD's four FP variants (Chen et al., HPCA 2025 §III-C)."""
from sim.numerics.bitmod import BITMOD_CANDIDATES
from sim.numerics.quantizers import bitmod_select
from sim.numerics.registry import Scheme, register

SCHEME = register(Scheme(
    "bitmod", bitmod_select, bits=(3, 4), order=0, choice="group",
    source="Chen et al., BitMoD, HPCA 2025 §III-B/C (value lists of the FP3/FP4 variants)",
    datatypes=(*BITMOD_CANDIDATES[3], *BITMOD_CANDIDATES[4]),
))
