"""Element formats against ml-dtypes (an independent implementation) and published value tables."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from sim.numerics.floating import (
    BF16,
    E8M0_SCALE,
    FP3_E1M1,
    FP3_E2M0,
    FP4_E2M1,
    FP6_E2M3,
    FP6_E3M2,
    FP8_E4M3,
    FP8_E5M2,
    FP16,
    FloatFormat,
)
from sim.numerics.integer import int_format
from workloads.errors import SpecError

ML_PAIRS = [
    (FP4_E2M1, ml_dtypes.float4_e2m1fn, np.uint8),
    (FP6_E2M3, ml_dtypes.float6_e2m3fn, np.uint8),
    (FP6_E3M2, ml_dtypes.float6_e3m2fn, np.uint8),
    (FP8_E4M3, ml_dtypes.float8_e4m3fn, np.uint8),
    (FP8_E5M2, ml_dtypes.float8_e5m2, np.uint8),
    (BF16, ml_dtypes.bfloat16, np.uint16),
    (FP16, np.float16, np.uint16),
]


def _ml_decode_all(ml_type, storage, bits):
    # sub-byte ml-dtypes occupy one byte each, the format's code in its low `bits` bits
    codes = np.arange(1 << bits, dtype=storage)
    with np.errstate(invalid="ignore"):
        return codes.view(ml_type).astype(np.float64)


@pytest.mark.parametrize("fmt,ml_type,storage", ML_PAIRS, ids=[p[0].name for p in ML_PAIRS])
def test_numerics_every_code_decodes_like_ml_dtypes(fmt, ml_type, storage):
    ours = fmt.decode(np.arange(1 << fmt.bits))
    theirs = _ml_decode_all(ml_type, storage, fmt.bits)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    finite = ~np.isnan(ours)
    np.testing.assert_array_equal(ours[finite], theirs[finite])
    assert np.array_equal(np.signbit(ours[finite]), np.signbit(theirs[finite]))


@pytest.mark.parametrize("fmt,ml_type,storage", ML_PAIRS, ids=[p[0].name for p in ML_PAIRS])
def test_numerics_value_set_equals_ml_dtypes(fmt, ml_type, storage):
    theirs = _ml_decode_all(ml_type, storage, fmt.bits)
    expected = np.unique(theirs[np.isfinite(theirs)] + 0.0)
    np.testing.assert_array_equal(fmt.values(), expected)
    assert fmt.max_abs == float(ml_dtypes.finfo(ml_type).max)


@pytest.mark.parametrize("fmt,ml_type,storage", ML_PAIRS, ids=[p[0].name for p in ML_PAIRS])
def test_numerics_rounding_equals_ml_dtypes_cast(fmt, ml_type, storage):
    rng = np.random.default_rng(1234)
    top = fmt.max_abs
    # log-uniform magnitudes cover subnormals through the largest binade; exact midpoints test ties
    mags = np.exp(rng.uniform(np.log(fmt.values()[fmt.values() > 0][0] / 4), np.log(top), 20000))
    x = (mags * rng.choice([-1.0, 1.0], mags.size)).astype(np.float32)
    grid = fmt.values()
    mids = ((grid[1:] + grid[:-1]) / 2).astype(np.float32)
    x = np.concatenate([x, mids[(grid[1:] + grid[:-1]) / 2 == mids]])
    ours = fmt.quantize(x)
    theirs = x.astype(ml_type).astype(np.float64)
    np.testing.assert_array_equal(ours, theirs)


def test_numerics_e8m0_matches_ml_dtypes():
    theirs = np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e8m0fnu).astype(np.float64)
    ours = E8M0_SCALE.decode(np.arange(256))
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(ours[:255], theirs[:255])


@pytest.mark.parametrize(
    "bits,ml_type", [(2, ml_dtypes.int2), (4, ml_dtypes.int4)], ids=["int2", "int4"]
)
def test_numerics_int_value_set_equals_ml_dtypes(bits, ml_type):
    info = ml_dtypes.iinfo(ml_type)
    np.testing.assert_array_equal(int_format(bits).values(), np.arange(info.min, info.max + 1))
    codes = np.arange(1 << bits, dtype=np.uint8)
    ints = int_format(bits).decode(codes)
    roundtrip = ints.astype(np.int64).astype(ml_type).astype(np.int64)
    np.testing.assert_array_equal(roundtrip, ints)


@pytest.mark.parametrize("bits", range(2, 9))
def test_numerics_int_rounding_is_rint_then_clip(bits):
    rng = np.random.default_rng(bits)
    fmt = int_format(bits)
    x = rng.uniform(-(2.0**bits), 2.0**bits, 5000)
    x = np.concatenate([x, np.arange(-(2**bits), 2**bits) + 0.5])
    np.testing.assert_array_equal(fmt.quantize(x), np.clip(np.rint(x), fmt.int_min, fmt.int_max))
    sym = int_format(bits, symmetric=True)
    lim = 2 ** (bits - 1) - 1
    np.testing.assert_array_equal(sym.quantize(x), np.clip(np.rint(x), -lim, lim))
    uns = int_format(bits, signed=False)
    np.testing.assert_array_equal(uns.values(), np.arange(2**bits))


def test_numerics_uint8_and_int8_agree_with_numpy_casts():
    fmt = int_format(8)
    codes = np.arange(256)
    np.testing.assert_array_equal(fmt.decode(codes), codes.astype(np.uint8).view(np.int8))
    np.testing.assert_array_equal(fmt.encode(fmt.decode(codes)), codes)


def test_numerics_three_bit_floats_match_bitmod_tables():
    # BitMoD (HPCA 2025) reference value list for FP3: {0, ±1, ±2, ±4} (E2M0, bias 1)
    np.testing.assert_array_equal(FP3_E2M0.values(), [-4, -2, -1, 0, 1, 2, 4])
    # E1M1 with bias 0: subnormals {0, 1}, normals {2, 3}
    np.testing.assert_array_equal(FP3_E1M1.values(), [-3, -2, -1, 0, 1, 2, 3])


def test_numerics_ocp_fp8_extremes():
    # OCP OFP8 rev 1.0 Table 1: E4M3 max normal 448, min subnormal 2^-9; E5M2 max 57344, min 2^-16
    assert FP8_E4M3.max_abs == 448 and FP8_E4M3.values()[FP8_E4M3.values() > 0][0] == 2.0**-9
    assert FP8_E5M2.max_abs == 57344 and FP8_E5M2.values()[FP8_E5M2.values() > 0][0] == 2.0**-16
    assert np.isinf(FP8_E5M2.decode(0b0_11111_00))
    assert np.isnan(FP8_E4M3.decode(0x7F)) and FP8_E4M3.decode(0x7E) == 448


def test_numerics_encode_decode_roundtrip_and_saturation():
    for fmt in [FP3_E1M1, FP3_E2M0, FP4_E2M1, FP6_E2M3, FP6_E3M2, FP8_E4M3, FP8_E5M2]:
        v = fmt.values()
        np.testing.assert_array_equal(fmt.decode(fmt.encode(v)), v)
        assert fmt.quantize(np.array([1e30, -1e30])).tolist() == [v[-1], v[0]]
    with pytest.raises(SpecError, match="not representable"):
        FP4_E2M1.encode(np.array([2.5]))
    with pytest.raises(SpecError, match="codes must lie"):
        FP4_E2M1.decode(16)


def test_numerics_custom_split_and_bias():
    fmt = FloatFormat("e3m1_b2", 3, 1, bias=2)
    v = fmt.values()
    assert v[v > 0][0] == 0.25 and fmt.max_abs == 1.5 * 2.0**5
