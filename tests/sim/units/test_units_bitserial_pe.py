"""Bit-serial PE model vs numpy dequantize-then-multiply (exact for integer activations)."""
import zlib

import numpy as np
import pytest

from sim.numerics.terms import term_cycles
from sim.units.bitserial_pe import (DATATYPES, BitSerialPEModel, dequant_reference,
                                    group_cycles)


def _signed(bits, width):
    return bits - (1 << width) if bits >> (width - 1) else bits


@pytest.mark.parametrize("dtype", DATATYPES, ids=lambda d: d.name)
def test_random_groups_match_dequantize_then_multiply(dtype):
    rng = np.random.default_rng(zlib.crc32(dtype.name.encode()))
    codes_all = [c for c in range(2**dtype.bits) if np.isfinite(dtype.decode(c))]
    model = BitSerialPEModel(act_width=8, acc_width=32)
    for _ in range(20):
        n = 4 * int(rng.integers(1, 33))
        codes = rng.choice(codes_all, n)
        acts = rng.integers(-128, 128, n)
        stim = group_cycles(dtype, codes, acts)
        assert len(stim) == n // 4 * term_cycles(dtype)
        (out,), (cyc,) = model.run(stim)
        assert _signed(out[0], 32) == dequant_reference(dtype, codes, acts)
        assert cyc == len(stim) - 1 + 2


@pytest.mark.parametrize("dtype", DATATYPES, ids=lambda d: d.name)
def test_every_code_at_activation_extremes(dtype):
    codes = list(range(2**dtype.bits))
    model = BitSerialPEModel(act_width=8, acc_width=32)
    for a in (-128, 127, 1, -1, 0):
        for code in codes:
            (out,), _ = model.run(group_cycles(dtype, [code] * 4, [a] * 4))
            assert _signed(out[0], 32) == dequant_reference(dtype, [code] * 4, [a] * 4)


def test_bubbles_groups_and_wrapping():
    dtype = DATATYPES[0]
    model = BitSerialPEModel(act_width=8, acc_width=12)
    g1 = group_cycles(dtype, [128] * 4, [-128] * 4)   # 2·4·16384 = 131072 wraps mod 2^12
    g2 = group_cycles(dtype, [1, 2, 3, 4], [5, 6, 7, 8])
    stim = g1[:2] + [None] + g1[2:] + [None, None] + g2
    outs, cycles = model.run(stim)
    assert outs == [((2 * 4 * 128 * 128) % 4096,), ((2 * (5 + 12 + 21 + 32)) % 4096,)]
    assert cycles == [4 + 2, len(stim) - 1 + 2]
