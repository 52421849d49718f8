"""The bank-MAC reference against numpy: the same tree order in float32 must agree bit for bit
when no FTZ/overflow occurs, and float64 dot products must lie within the bound that
rounding order implies (|err| <= gamma_k * sum|p_i|, k = log2(lanes) + bursts roundings)."""
import numpy as np
import pytest

from sim.units.bank_mac import BankMacModel, Burst


def _bf16_typical(rng, shape):
    sign = rng.integers(0, 2, shape) << 15
    return (sign | rng.integers(112, 143, shape) << 7 | rng.integers(0, 128, shape)).astype(np.uint32)


def _to_f32(bf16):
    return (np.asarray(bf16, dtype=np.uint32) << 16).view(np.float32)


def _numpy_same_order(w, x):
    p = _to_f32(w) * _to_f32(x)
    acc = np.float32(0)
    for row in p:
        level = row
        while len(level) > 1:
            level = level[0::2] + level[1::2]
        acc = np.float32(acc + level[0])
    return acc


@pytest.mark.parametrize("lanes", [4, 8, 16])
def test_matches_float32_same_order_and_float64_bound(lanes):
    rng = np.random.default_rng(lanes)
    model = BankMacModel(lanes)
    u = 2.0**-24
    for trial in range(60):
        bursts = int(rng.integers(1, 40))
        w = _bf16_typical(rng, (bursts, lanes))
        x = _bf16_typical(rng, (bursts, lanes))
        stim = [Burst(tuple(w[i].tolist()), tuple(x[i].tolist()), i == 0, i == bursts - 1)
                for i in range(bursts)]
        (out,), (cycle,) = model.run(stim)
        got = np.array([out[0]], dtype=np.uint32).view(np.float32)[0]
        assert got == _numpy_same_order(w, x) and cycle == bursts - 1 + model.latency_cycles
        p = _to_f32(w).astype(np.float64) * _to_f32(x).astype(np.float64)
        k = int(np.log2(lanes)) + bursts
        gamma = k * u / (1 - k * u)
        assert abs(float(got) - p.sum()) <= gamma * np.abs(p).sum()


def test_clear_last_bubbles_and_latency():
    model = BankMacModel(4)
    one = 0x3F80
    b = lambda c, l: Burst((one,) * 4, (one,) * 4, c, l)
    outs, cycles = model.run([b(True, False), None, b(False, True), b(True, True), None])
    assert outs == [(0x41000000,), (0x40800000,)]  # 8.0 then 4.0
    assert cycles == [2 + 3, 3 + 3] and model.latency_cycles == 3
    assert BankMacModel(16).latency_cycles == 5


def test_rejects_bad_lanes():
    with pytest.raises(ValueError):
        BankMacModel(6)
