"""The FP reference (`sim.units.fp`) against numpy's IEEE float32 arithmetic, an independent
implementation of round-to-nearest-even; results that FTZ or NaN rules change are excluded."""
import numpy as np
import pytest

from sim.units.fp import CANONICAL_NAN, FP32_INF, bf16_mul, fp32_add, round_to_fp32


def _f32(bits):
    return np.array(bits, dtype=np.uint32).view(np.float32)


def _bits(x):
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def _normal(bits):
    exp = (bits >> 23) & 0xFF
    return (exp != 0) & (exp != 0xFF)


def test_fp32_add_matches_numpy_rne_on_normals():
    rng = np.random.default_rng(1)
    n = 20000
    sign = rng.integers(0, 2, n, dtype=np.uint32) << 31
    exp_a = rng.integers(1, 255, n, dtype=np.uint32)
    exp_b = np.clip(exp_a.astype(np.int64) + rng.integers(-30, 31, n), 1, 254).astype(np.uint32)
    a = sign | exp_a << 23 | rng.integers(0, 1 << 23, n, dtype=np.uint32)
    b = (rng.integers(0, 2, n, dtype=np.uint32) << 31) | exp_b << 23 | rng.integers(0, 1 << 23, n, dtype=np.uint32)
    with np.errstate(over="ignore"):
        expect = _bits(_f32(a) + _f32(b))
    checked = 0
    for x, y, e in zip(a.tolist(), b.tolist(), expect.tolist()):
        got = fp32_add(x, y)
        if _normal(np.uint32(e)) or e in (0, FP32_INF, FP32_INF | 1 << 31):
            assert got == (0 if e == 0x8000_0000 else e), (hex(x), hex(y))
            checked += 1
        else:
            assert got == 0
    assert checked > 0.95 * n


@pytest.mark.parametrize("a,b,expect", [
    (0x3F800000, 0x33800000, 0x3F800000),   # 1 + 2^-24: tie, stays even
    (0x3F800001, 0x33800000, 0x3F800002),   # odd + half ulp: tie, rounds up to even
    (0x3F800000, 0x33800001, 0x3F800001),   # just above half ulp
    (0x3F800000, 0xBF800000, 0x00000000),   # exact cancellation -> +0
    (0x80000000, 0x80000000, 0x00000000),   # -0 + -0 -> +0 (unsigned zeros)
    (0x00800000, 0x80000001, 0x00800000),   # subnormal input is zero
    (0x00C00000, 0x80800000, 0x00000000),   # 1.5*2^-126 - 2^-126 = subnormal -> flushed
    (0x7F7FFFFF, 0x73800000, 0x7F800000),   # max + ulp/2 rounds up to overflow -> inf
    (0x7F800000, 0xFF800000, CANONICAL_NAN),
    (0x7F800001, 0x3F800000, CANONICAL_NAN),
    (0xFF800000, 0x7F7FFFFF, 0xFF800000),
])
def test_fp32_add_edge_cases(a, b, expect):
    assert fp32_add(a, b) == expect
    assert fp32_add(b, a) == expect


def test_round_to_fp32_ftz_is_decided_after_rounding():
    below = (1 << 24) - 1  # (2^24 - 1) * 2^-150 is just below 2^-126 and rounds up to it
    assert round_to_fp32(0, below << 1 | 1, -151) == 0x00800000
    assert round_to_fp32(0, below, -150, rounding="rtz") == 0


def test_bf16_mul_matches_numpy_and_is_exact():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 1 << 16, 20000, dtype=np.uint32)
    b = rng.integers(0, 1 << 16, 20000, dtype=np.uint32)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        fa, fb = _f32(a << 16), _f32(b << 16)
        exact = fa.astype(np.float64) * fb.astype(np.float64)
        expect = _bits(fa * fb)
    for x, y, e, ex, xa, xb in zip(a.tolist(), b.tolist(), expect.tolist(), exact.tolist(),
                                   (a << 16).tolist(), (b << 16).tolist()):
        got = bf16_mul(x, y)
        if not (_normal(np.uint32(xa)) and _normal(np.uint32(xb))):
            continue
        if _normal(np.uint32(e)):
            assert got == e and float(_f32([got])[0]) == ex
        elif np.isinf(ex) or abs(ex) >= 2.0**128:
            assert got == (FP32_INF | (e & 0x8000_0000))
        else:
            assert got == 0
    assert bf16_mul(0x7F80, 0x0000) == CANONICAL_NAN
    assert bf16_mul(0x7F80, 0x0001) == CANONICAL_NAN  # subnormal reads as zero
    assert bf16_mul(0xFF80, 0x3F80) == 0xFF800000
    assert bf16_mul(0x8000, 0x3F80) == 0
