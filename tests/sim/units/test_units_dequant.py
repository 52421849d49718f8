"""Dequantization-unit model vs independent references: `sim.numerics` datatype decoding of
every scale code, numpy float32 rounding of the exact product and of the running sum, timing."""
import math
import random

import numpy as np
import pytest

from sim.numerics.floating import E8M0_SCALE, FP8_E4M3, FP16
from sim.units.dequant import (BIT_CYCLES, FORMATS, NAN, INF, ZERO, DequantEntry, DequantModel,
                               decode_scale, scaled_psum)
from sim.units.fp import CANONICAL_NAN

NUMERICS = {1: E8M0_SCALE, 2: FP8_E4M3, 3: FP16}


def _f32(bits: int) -> float:
    return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])


def _bits(x: np.float32) -> int:
    return int(np.array([x], dtype=np.float32).view(np.uint32)[0])


def _value(scale) -> float:
    if scale.kind == NAN:
        return math.nan
    if scale.kind == INF:
        return -math.inf if scale.sign else math.inf
    return (-1) ** scale.sign * math.ldexp(scale.significand, scale.exponent)


@pytest.mark.parametrize("fmt", range(len(FORMATS)), ids=FORMATS)
def test_every_scale_code_decodes_as_sim_numerics_defines_it(fmt):
    n_codes = 1 << (16 if FORMATS[fmt] == "fp16" else 8)
    codes = np.arange(n_codes)
    ref = codes.astype(float) if fmt == 0 else NUMERICS[fmt].decode(codes)
    ours = np.array([_value(decode_scale(fmt, int(c))) for c in codes])
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    finite = ~np.isnan(ref)
    np.testing.assert_array_equal(ours[finite], ref[finite])
    assert all((decode_scale(fmt, int(c)).kind == ZERO) == (ref[i] == 0) for i, c in enumerate(codes))


def test_products_equal_numpy_float32_of_the_exact_product():
    rng = random.Random(3)
    checked = 0
    for _ in range(20_000):
        fmt = rng.randrange(4)
        code = rng.getrandbits(16 if fmt == 3 else 8)
        psum = rng.randint(-(1 << 31), (1 << 31) - 1) >> rng.randrange(31)
        scale = decode_scale(fmt, code)
        got = scaled_psum(psum, scale)
        if scale.kind == NAN or (scale.kind == INF and psum == 0):
            assert got == CANONICAL_NAN
            continue
        exact = psum / 2 * _value(scale) if psum else 0.0   # < 53 significant bits: exact double
        with np.errstate(over="ignore"):
            ref = np.float32(exact)
        if exact != 0 and abs(exact) < 2.0**-126:
            assert got in (0, _bits(np.float32(math.copysign(2.0**-126, exact))))   # FTZ
            continue
        assert got == _bits(ref) if ref != 0 else got == 0
        checked += 1
    assert checked > 15_000


def test_accumulation_is_sequential_float32_and_latency_follows_the_datatype():
    rng = random.Random(4)
    model = DequantModel(psum_width=24)
    stim, expect = [], []
    for _ in range(200):
        k = rng.randint(1, 6)
        acc = np.float32(0)
        for i in range(k):
            fmt = rng.randrange(4)
            code = {0: rng.randint(1, 255), 1: rng.randint(110, 140), 2: rng.randint(0x20, 0x5F),
                    3: rng.randint(0x2000, 0x57FF)}[fmt]
            psum = rng.randint(-(1 << 23), (1 << 23) - 1)
            prod = np.float32(psum / 2 * _value(decode_scale(fmt, code)))
            acc = np.float32(acc + prod)
            stim.append(DequantEntry(psum, code, fmt, i == 0, i == k - 1))
            stim += [None] * BIT_CYCLES[fmt]
        expect.append((_bits(acc) if acc != 0 else 0, len(stim) - 1 + 2))
    outs, cycles = model.run(stim)
    assert [(o[0], c) for o, c in zip(outs, cycles)] == expect


def test_latency_and_busy_protocol():
    model = DequantModel(psum_width=16)
    for fmt in range(4):
        one = (1, 127, 0x38, 0x3C00)[fmt]
        stim = [DequantEntry(6, one, fmt, True, True)]
        (out,), (cyc,) = model.run(stim)
        assert _f32(out[0]) == 3.0
        assert cyc == BIT_CYCLES[fmt] + 2
        too_soon = stim + [None] * (BIT_CYCLES[fmt] - 1) + stim
        with pytest.raises(ValueError, match="busy"):
            model.run(too_soon)
    with pytest.raises(ValueError, match="signed range"):
        model.run([DequantEntry(1 << 15, 1, 0, True, True)])
