"""Functional PE models equal dequantize-then-multiply within the FP16 rounding bound."""
import numpy as np

from sim.bitserial.pe import bitparallel_dot, bitserial_dot, fp16_error_bound, term_table
from sim.numerics.bitmod import FP3_EA_POS, FP4_ER_NEG, FP4_ER_POS
from sim.numerics.integer import int_format
from sim.numerics.terms import term_cycles

GROUP = 128


def _case(dtype, seed, n=256):
    rng = np.random.default_rng(seed)
    acts = rng.standard_normal(n).astype(np.float16)
    finite = [c for c in range(2**dtype.bits) if np.isfinite(float(dtype.decode(c)))]
    codes = rng.choice(finite, size=n)
    scales = np.float16(rng.uniform(0.01, 0.1, n // GROUP)).astype(np.float16)
    return acts, codes, scales


def _reference(acts, codes, dtype, scales):
    w = dtype.decode(codes).astype(float) * np.repeat(scales.astype(float), GROUP)
    return float(acts.astype(float) @ w)


def test_bs_bitserial_pe_matches_dequantized_reference_within_fp16_bound():
    for dtype in (FP4_ER_POS, FP4_ER_NEG, FP3_EA_POS, int_format(6)):
        for seed in range(3):
            acts, codes, scales = _case(dtype, seed)
            got = float(bitserial_dot(acts, codes, dtype, scales, GROUP))
            ref = _reference(acts, codes, dtype, scales)
            table = term_table(dtype)
            mags = np.array([sum(abs(t.value) for t in table[int(c)]) for c in codes])
            bound = fp16_error_bound(acts, mags, scales.astype(float), GROUP, GROUP * term_cycles(dtype))
            assert abs(got - ref) <= bound, (dtype.name, seed, got, ref, bound)


def test_bs_bitserial_pe_exact_on_small_integers():
    acts = np.full(GROUP, 1.0, dtype=np.float16)
    codes = np.full(GROUP, int(FP4_ER_POS.encode(np.array([5.0]))[0]))
    got = bitserial_dot(acts, codes, FP4_ER_POS, np.array([1.0], dtype=np.float16), GROUP)
    assert float(got) == 5.0 * GROUP


def test_bs_bitparallel_pe_matches_reference_within_fp16_bound():
    rng = np.random.default_rng(7)
    acts = rng.standard_normal(256).astype(np.float16)
    w = rng.integers(-127, 128, 256).astype(float)  # FP16×INT8
    scales = np.array([0.01, 0.02], dtype=np.float16)
    got = float(bitparallel_dot(acts, w, scales, GROUP))
    ref = float(acts.astype(float) @ (w * np.repeat(scales.astype(float), GROUP)))
    bound = fp16_error_bound(acts, np.abs(w), scales.astype(float), GROUP, 2 * GROUP)
    assert abs(got - ref) <= bound
