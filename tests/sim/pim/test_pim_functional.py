"""PIM MAC results through the mapping equal a numpy GEMV within the FP32-accumulation bound."""
import numpy as np
import pytest

from sim.pim.bank_mac import pim_gemv, to_bf16


def test_bf16_rounding_is_round_to_nearest_even():
    x = np.array([1.0, 1.0 + 2**-8, 1.0 + 3 * 2**-8, -2.5], dtype=np.float32)
    assert to_bf16(x).tolist() == [1.0, 1.0, 1.0 + 2**-6, -2.5]


@pytest.mark.parametrize("shape", [(64, 48), (100, 1600), (37, 2500)])
def test_pim_gemv_matches_numpy_within_rounding_bound(shape):
    rng = np.random.default_rng(1)
    w = rng.standard_normal(shape).astype(np.float32)
    x = rng.standard_normal(shape[1]).astype(np.float32)
    y = pim_gemv(w, x)
    wb, xb = to_bf16(w).astype(np.float64), to_bf16(x).astype(np.float64)
    ref = wb @ xb
    # FP32 additions on any path: 4 tree levels + one accumulate per column access + chunk adds
    n_adds = 4 + int(np.ceil(shape[1] / 16)) + int(np.ceil(shape[1] / 1024))
    u = 2.0 ** -24
    bound = n_adds * u / (1 - n_adds * u) * (np.abs(wb) @ np.abs(xb))
    assert np.all(np.abs(y - ref) <= bound)
    assert not np.array_equal(y, (w.astype(np.float64) @ x.astype(np.float64)).astype(np.float32))
