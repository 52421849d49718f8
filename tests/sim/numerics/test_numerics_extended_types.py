"""BitMoD variants, ANT types, OliVe pairs and OCP MX blocks against published tables and references."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from sim.numerics.ant import ant_candidates, flint, pot
from sim.numerics.bitmod import BITMOD_CANDIDATES, FP3_EA_NEG, FP4_ER_POS
from sim.numerics.floating import FP3_E2M0, FP4_E2M1, FP8_E4M3
from sim.numerics.mx import MXFP3_E2M0, MXFP4, MXFP6_E2M3, MXFP6_E3M2, MXFP8_E4M3, MXFP8_E5M2, MXINT8
from sim.numerics.olive import OliveFormat
from workloads.errors import SpecError

# BitMoD authors' value lists (bitmod_quant/quant_utils/quant_weight.py, HPCA 2025 artifact);
# the 4-bit lists are in units of half the E2M1 LSB, i.e. twice E2M1's values.
BITMOD_PUBLISHED = {
    "fp3_er_pos": [-4, -2, -1, 0, 1, 2, 3, 4],
    "fp3_er_neg": [-4, -3, -2, -1, 0, 1, 2, 4],
    "fp3_ea_pos": [-4, -2, -1, 0, 1, 2, 4, 6],
    "fp3_ea_neg": [-6, -4, -2, -1, 0, 1, 2, 4],
    "fp4_er_pos": [v / 2 for v in [-12, -8, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 8, 10, 12]],
    "fp4_er_neg": [v / 2 for v in [-12, -10, -8, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 8, 12]],
    "fp4_ea_pos": [v / 2 for v in [-12, -8, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 8, 12, 16]],
    "fp4_ea_neg": [v / 2 for v in [-16, -12, -8, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 8, 12]],
}


def test_numerics_bitmod_variants_match_published_value_lists():
    names = [d.name for bits in (3, 4) for d in BITMOD_CANDIDATES[bits]]
    assert sorted(names) == sorted(BITMOD_PUBLISHED)
    for bits in (3, 4):
        for dt in BITMOD_CANDIDATES[bits]:
            np.testing.assert_array_equal(dt.values(), BITMOD_PUBLISHED[dt.name])
            assert len(dt.values()) == 2**bits  # no code wasted


def test_numerics_bitmod_only_the_negative_zero_code_changes():
    for dt, base in ((FP4_ER_POS, FP4_E2M1), (FP3_EA_NEG, FP3_E2M0)):
        codes = np.arange(1 << dt.bits)
        differ = codes[dt.decode(codes) != base.decode(codes)]
        assert differ.tolist() == [1 << (dt.bits - 1)]
        assert dt.decode(1 << (dt.bits - 1)) == dt.extra_value
    assert FP4_ER_POS.encode(5.0) == 0b1000
    assert FP4_ER_POS.quantize(np.array([4.4, 4.6, 5.6])).tolist() == [4.0, 5.0, 6.0]


def test_numerics_ant_types():
    np.testing.assert_array_equal(pot(4).values(), [-64, -32, -16, -8, -4, -2, -1, 0, 1, 2, 4, 8, 16, 32, 64])
    np.testing.assert_array_equal(flint(4).values(), [-16, -8, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 8, 16])
    np.testing.assert_array_equal(flint(3).values(), [-4, -2, -1, 0, 1, 2, 4])
    assert [d.name for d in ant_candidates(4)] == ["int_sym4", "flint4", "pot4"]
    assert [d.name for d in ant_candidates(3)] == ["int_sym3", "flint3"]  # PoT3 equals flint3
    with pytest.raises(SpecError):
        flint(5)


def test_numerics_olive_pairs_prune_victims():
    fmt = OliveFormat(4)
    np.testing.assert_array_equal(fmt.outlier.values()[8:], [8, 12, 16, 24, 32, 48, 64, 96])
    x = np.array([1.2, 20.0, 3.0, -2.6, 30.0, 40.0, 9.0, 0.1, -100.0, 6.6])
    # pair (1.2, 20): 20 is an outlier -> 16 (nearer than 24), 1.2 is the victim
    # pair (30, 40): both outliers, 40 kept (tie 32|48 -> even code 32), 30 pruned
    expected = [0, 16, 3, -3, 0, 32, 8, 0, -96, 0]
    np.testing.assert_array_equal(fmt.quantize(x), expected)
    codes = fmt.encode(x)
    assert codes[0] == codes[4] == codes[7] == codes[9] == fmt.identifier_code
    np.testing.assert_array_equal(fmt.decode(codes), expected)
    assert set(fmt.quantize(np.linspace(-120, 120, 2000))) <= set(fmt.values())
    with pytest.raises(SpecError, match="even"):
        fmt.quantize(np.ones(3))


def _mx_reference(x, elem_max, emax, cast):
    """Straight per-block transcription of OCP MX v1.0 §6.3, element cast by ml-dtypes."""
    out = np.empty_like(x)
    for r in range(x.shape[0]):
        for b in range(0, x.shape[1], 32):
            v = x[r, b : b + 32]
            amax = float(np.max(np.abs(v)))
            e = -127 if amax == 0 else max(-127, min(127, int(np.floor(np.log2(amax))) - emax))
            scale = 2.0**e
            out[r, b : b + 32] = cast(np.clip(v / scale, -elem_max, elem_max)) * scale
    return out


MX_CASES = [
    (MXFP4, 6.0, 2, ml_dtypes.float4_e2m1fn),
    (MXFP6_E2M3, 7.5, 2, ml_dtypes.float6_e2m3fn),
    (MXFP6_E3M2, 28.0, 4, ml_dtypes.float6_e3m2fn),
    (MXFP8_E4M3, 448.0, 8, ml_dtypes.float8_e4m3fn),
    (MXFP8_E5M2, 57344.0, 15, ml_dtypes.float8_e5m2),
]


@pytest.mark.parametrize("fmt,elem_max,emax,ml_type", MX_CASES, ids=[c[0].name for c in MX_CASES])
def test_numerics_mx_matches_spec_reference(fmt, elem_max, emax, ml_type):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 128)) * np.exp(rng.uniform(-6, 6, (6, 1)))
    x[0, :32] = 0.0
    assert fmt.emax_elem == emax
    ref = _mx_reference(x, elem_max, emax, lambda v: v.astype(np.float32).astype(ml_type).astype(np.float64))
    np.testing.assert_array_equal(fmt.quantize(x), ref)
    scale_codes, elem_codes = fmt.encode(x)
    np.testing.assert_array_equal(fmt.decode(scale_codes, elem_codes), ref)
    blocks = x.reshape(6, 4, 32)
    amax = np.abs(blocks).max(-1)
    scales = np.ldexp(1.0, scale_codes - 127).astype(np.float32)
    np.testing.assert_array_equal(scales.astype(ml_dtypes.float8_e8m0fnu).view(np.uint8), scale_codes)
    assert scale_codes[0, 0] == 0 and np.all(amax[amax > 0] / np.ldexp(1.0, scale_codes[amax > 0] - 127) >= 2.0**emax)


def test_numerics_mxint8_and_mxfp3_blocks():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 64))
    ref = _mx_reference(x, 127 / 64, 0, lambda v: np.rint(v * 64) / 64)
    np.testing.assert_array_equal(MXINT8.quantize(x), ref)
    assert MXFP3_E2M0.emax_elem == 2 and MXFP4.bits_per_element == 4.25
    with pytest.raises(SpecError, match="multiple of the block size"):
        MXFP4.quantize(np.ones((2, 40)))


def test_numerics_fp8_e4m3_saturates_in_mx():
    x = np.full((1, 32), 1.0)
    x[0, 0] = 1.99  # amax in [1, 2): scale 2^-8, so 1.99 * 2^8 = 509 saturates to 448
    q = MXFP8_E4M3.quantize(x)
    assert q[0, 0] == 448 * 2.0**-8 and FP8_E4M3.max_abs == 448
