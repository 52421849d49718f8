"""Quantizers and metrics against closed forms and brute-force references."""
from __future__ import annotations

import numpy as np
import pytest

from sim.numerics.ant import ant_candidates
from sim.numerics.bitmod import BITMOD_CANDIDATES
from sim.numerics.floating import FP4_E2M1
from sim.numerics.integer import int_format
from sim.numerics.metrics import matmul_relative_error, normalized_mse, sqnr_db
from sim.numerics.quantizers import (
    QuantSpec,
    bitmod_select,
    group_view,
    quantize_int_asymmetric,
    quantize_olive,
    quantize_symmetric,
    select_per_tensor,
)
from workloads.errors import SpecError


@pytest.fixture(scope="module")
def w():
    return np.random.default_rng(11).standard_normal((16, 256))


def test_quant_granularity_shapes(w):
    assert group_view(w, QuantSpec("tensor")).shape == (1, 1, 16 * 256)
    assert group_view(w, QuantSpec("channel")).shape == (16, 1, 256)
    assert group_view(w, QuantSpec("group", 64)).shape == (16, 4, 64)
    with pytest.raises(SpecError, match="group size 100 must divide"):
        group_view(w, QuantSpec("group", 100))
    with pytest.raises(SpecError, match="scale format"):
        QuantSpec(scale_format="int4")


def test_quant_symmetric_int_is_closed_form(w):
    q = quantize_symmetric(w, int_format(4, symmetric=True), QuantSpec("group", 128, "fp32"))
    g = w.reshape(16, 2, 128)
    s = np.abs(g).max(-1, keepdims=True) / 7
    ref = np.clip(np.rint(g / s), -7, 7) * s
    np.testing.assert_allclose(q.dequantized, ref.reshape(w.shape), rtol=0, atol=1e-15)


def test_quant_asymmetric_int_is_closed_form(w):
    q = quantize_int_asymmetric(w, 3, QuantSpec("channel", scale_format="fp32"))
    lo, hi = w.min(1, keepdims=True), w.max(1, keepdims=True)
    s = (hi - lo) / 7
    z = np.rint(-lo / s)
    ref = (np.clip(np.rint(w / s + z), 0, 7) - z) * s
    np.testing.assert_allclose(q.dequantized, ref, rtol=0, atol=1e-12)


def test_quant_scale_formats(w):
    fp16 = quantize_symmetric(w, FP4_E2M1, QuantSpec(scale_format="fp16"))
    assert np.all(fp16.scales.astype(np.float16).astype(np.float64) == fp16.scales)
    e8 = quantize_symmetric(w, FP4_E2M1, QuantSpec(scale_format="e8m0"))
    assert np.all(np.log2(e8.scales) == np.round(np.log2(e8.scales)))
    amax = np.abs(group_view(w, QuantSpec())).max(-1)
    np.testing.assert_array_equal(e8.scales, 2.0 ** (np.floor(np.log2(amax)) - 2))
    two = quantize_symmetric(w, FP4_E2M1, QuantSpec(scale_format="int8_fp16"))
    channel = (two.scales.max(-1, keepdims=True))
    levels = two.scales / (channel / 255).astype(np.float16).astype(np.float64)
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-9)
    assert levels.max() <= 255 and levels.min() >= 1


def test_quant_bitmod_selection_is_per_group_argmin(w):
    q = bitmod_select(w, 4, QuantSpec("group", 64, "fp32"))
    groups = w.reshape(16, 4, 64)
    cands = BITMOD_CANDIDATES[4]
    for r in range(16):
        for g in range(4):
            x = groups[r, g]
            errs = []
            for dt in cands:
                s = np.abs(x).max() / dt.max_abs
                errs.append(np.mean((dt.quantize(x / s) * s - x) ** 2))
            assert q.choice[r, g] == int(np.argmin(errs))
    assert abs(sum(q.choice_shares().values()) - 1) < 1e-12
    assert set(q.choice_shares()) == {d.name for d in cands}


def test_quant_bitmod_never_worse_than_any_single_candidate(w):
    for bits in (3, 4):
        mix = normalized_mse(w, bitmod_select(w, bits).dequantized)
        for dt in BITMOD_CANDIDATES[bits]:
            assert mix <= normalized_mse(w, quantize_symmetric(w, dt).dequantized)


def test_quant_ant_picks_one_type_per_tensor(w):
    q = select_per_tensor(w, ant_candidates(4))
    assert len(set(q.choice.ravel().tolist())) == 1
    best = min(normalized_mse(w, quantize_symmetric(w, d).dequantized) for d in ant_candidates(4))
    assert normalized_mse(w, q.dequantized) == best


def test_quant_olive_keeps_outliers(w):
    x = w.copy()
    x[0, 10] = 40.0
    q = quantize_olive(x, 4)
    assert abs(q.dequantized[0, 10] - 40.0) < 8.0 and q.dequantized[0, 11] == 0.0


def test_quant_metrics_closed_forms():
    w = np.array([[3.0, 4.0]])
    assert normalized_mse(w, np.zeros_like(w)) == 1.0
    assert normalized_mse(w, w * 0.9) == pytest.approx(0.01)
    assert sqnr_db(w, w * 0.9) == pytest.approx(20.0)
    x = np.random.default_rng(0).standard_normal((8, 2))
    assert matmul_relative_error(x, w, w) == 0.0
    assert matmul_relative_error(x, w, 1.1 * w) == pytest.approx(0.1)
