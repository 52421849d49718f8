"""The online-softmax reference against float64 math.exp.

Error budget of one term exp(-d), from the spec in `sim.units.online_softmax`: the chord over
a segment of width h = 1/16 over-estimates 2**-f by at most (h ln 2)**2 / 8 relative; truncating
the interpolation fraction to 8 bits under-estimates by at most (1 - 2**-h) / 2**8 / g_min with
g_min = 1/2; the final shift truncates at most 2**-16 absolute. A row with K max changes
compounds the relative part K extra times and adds one truncation per rescale.
"""
import math
import random

import numpy as np
import pytest

from sim.units.online_softmax import EXP_FRAC_BITS, LOG2E_Q, OnlineSoftmaxModel, Score, exp2_table

H = 1 / 16
EPS_REL = (H * math.log(2)) ** 2 / 8 + (1 - 2 ** -H) / 2**8 / 0.5
LSB = 2.0**-EXP_FRAC_BITS


def test_constants():
    assert LOG2E_Q == 94548 and abs(LOG2E_Q / 2**16 - math.log2(math.e)) < 2**-17
    t = exp2_table()
    assert t[0] == 1 << 16 and t[-1] == 1 << 15 and len(t) == 17


@pytest.mark.parametrize("frac_bits", [4, 8, 12])
def test_single_exponential_error_bound(frac_bits):
    model = OnlineSoftmaxModel(20, frac_bits)
    d = np.arange(0, 24 << frac_bits, max(1, (1 << frac_bits) // 64))
    approx = np.array([model.exp_neg(int(x)) for x in d]) / 2**16
    exact = np.exp(-d / 2**frac_bits)
    # LOG2E_Q error: |y err| <= d * 2**-17 relative to y, i.e. exp(-d) * (d * 2**-17 * ln 2)
    const_err = exact * (d / 2**frac_bits) * math.log2(math.e) * 2.0**-17 * math.log(2) * 1.01
    assert np.all(np.abs(approx - exact) <= EPS_REL * exact + LSB + const_err)
    assert np.all(approx <= 1.0) and model.exp_neg(0) == 1 << 16


def _max_changes(vals):
    k, m = 0, vals[0]
    for v in vals[1:]:
        if v > m:
            k, m = k + 1, v
    return k


@pytest.mark.parametrize("width,frac_bits", [(16, 8), (12, 6), (20, 10)])
def test_row_sum_within_derived_bound_of_float64(width, frac_bits):
    model = OnlineSoftmaxModel(width, frac_bits)
    rng = random.Random(width)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    worst = 0.0
    for _ in range(200):
        n = rng.choice([1, 7, 64, 512])
        sd = rng.choice([0.5, 2.0, 6.0])
        vals = [min(hi, max(lo, round(rng.gauss(0, sd) * 2**frac_bits))) for _ in range(n)]
        ell, mx = model.row_value(vals)
        assert mx == max(vals) / 2**frac_bits
        exact = math.fsum(math.exp((v - max(vals)) / 2**frac_bits) for v in vals)
        k = _max_changes(vals)
        bound = EPS_REL * (1 + k) * exact + (n + k) * LSB * 1.001
        assert abs(ell - exact) <= bound
        worst = max(worst, abs(ell - exact) / exact)
    assert worst < 5e-3


def test_rows_latency_saturation_and_signed_max():
    model = OnlineSoftmaxModel(8, 4, max_row_log2=4)
    row = [Score(0, i == 0, i == 39) for i in range(40)]
    neg = [Score(0xF0, True, False), Score(0xE0, False, True)]  # -1.0 then -2.0
    outs, cycles = model.run(row + [None] + neg)
    assert outs[0] == ((1 << model.ell_bits) - 1, 0)  # 40 > 32: saturated
    assert outs[1][1] == 0xF0 and cycles == [39 + 2, 42 + 2]
    assert abs(outs[1][0] / 2**16 - (1 + math.exp(-1))) < 1e-3


def test_rescale_rounding_variant_differs():
    vals = [0, 300, 700, 1200, 1250]
    a = OnlineSoftmaxModel(16, 8).row_value(vals)
    b = OnlineSoftmaxModel(16, 8, ell_rounding="nearest").row_value(vals)
    assert a != b and abs(a[0] - b[0]) < 1e-3
