"""Bit-serial term decomposition: every code sums back; cycle counts per BitMoD / Booth."""
from __future__ import annotations

import numpy as np
import pytest

from sim.numerics.bitmod import BITMOD_CANDIDATES
from sim.numerics.floating import FP3_E2M0, FP4_E2M1, FP6_E2M3, FP8_E4M3
from sim.numerics.integer import int_format
from sim.numerics.mx import MXINT8_ELEMENT
from sim.numerics.terms import booth_radix4_digits, term_cycles, unified_terms

FP_FAMILY = [FP3_E2M0, FP4_E2M1, *BITMOD_CANDIDATES[3], *BITMOD_CANDIDATES[4]]


@pytest.mark.parametrize("dtype", FP_FAMILY, ids=[d.name for d in FP_FAMILY])
def test_numerics_bitmod_fp_codes_take_two_terms_and_sum_back(dtype):
    assert term_cycles(dtype) == 2
    for code in range(1 << dtype.bits):
        terms = unified_terms(dtype, code)
        assert len(terms) == 2
        assert all(t.coefficient in (-1, 0, 1) for t in terms)
        assert sum(t.value for t in terms) == dtype.decode(code)


@pytest.mark.parametrize("bits,cycles", [(2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 4), (8, 4)])
def test_numerics_int_booth_cycles_and_sums(bits, cycles):
    fmt = int_format(bits)
    assert term_cycles(fmt) == cycles
    for code in range(1 << bits):
        terms = unified_terms(fmt, code)
        assert len(terms) == cycles
        assert sum(t.value for t in terms) == fmt.decode(code)
        digits = booth_radix4_digits(int(fmt.decode(code)), bits)
        assert all(d in (-2, -1, 0, 1, 2) for d in digits)
        assert sum(d * 4**i for i, d in enumerate(digits)) == fmt.decode(code)


def test_numerics_booth_known_recodings():
    # 7 = 0111 -> digits (LSB first) (-1, 2): -1 + 2*4 = 7; -8 = 1000 -> (0, -2)
    assert booth_radix4_digits(7, 4) == (-1, 2)
    assert booth_radix4_digits(-8, 4) == (0, -2)
    assert booth_radix4_digits(-128, 8) == (0, 0, 0, -2)


def test_numerics_wider_types_terms():
    for dtype in (FP6_E2M3, FP8_E4M3, MXINT8_ELEMENT):
        for code in range(1 << dtype.bits):
            v = dtype.decode(code)
            if np.isfinite(v):
                assert sum(t.value for t in unified_terms(dtype, code)) == v
    assert term_cycles(FP8_E4M3) == 4 and term_cycles(FP6_E2M3) == 4 and term_cycles(MXINT8_ELEMENT) == 4
