"""Code-to-term decoder → bit-serial PE → dequantization unit on whole 128-weight groups (RTL,
chained), against numpy float32 of the dequantize-then-multiply group sums and against the FP16
functional PE `sim.bitserial.pe.bitserial_dot` (equal where FP16 is exact, within its Higham
bound otherwise)."""
import zlib

import numpy as np
import pytest

from hw.cosim import simulate
from hw.units import get_unit
from sim.bitserial.pe import bitserial_dot, fp16_error_bound, term_table
from sim.numerics.floating import FP16
from sim.numerics.terms import Term
from sim.units.bitserial_pe import DATATYPES, TermCycle, dequant_reference, group_cycles
from sim.units.dequant import BIT_CYCLES, E8M0, FP16 as FMT_FP16, UINT8, DequantEntry, decode_scale
from sim.units.term_decoder import TERM_CYCLES, WeightSlot

GROUP = 128
PE, DQ, DEC = get_unit("bitserial_pe"), get_unit("dequant"), get_unit("term_decoder")
PE_PARAMS, DQ_PARAMS, DEC_PARAMS = PE.resolve({}), DQ.resolve({}), DEC.resolve({})
BY_NAME = {d.name: d for d in DATATYPES}


def _signed(bits, width=32):
    return bits - (1 << width) if bits >> (width - 1) else bits


def _f32(bits):
    return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])


def _scale_value(fmt, code):
    s = decode_scale(fmt, code)
    return (-1) ** s.sign * np.ldexp(float(s.significand), s.exponent)


def _chain(dtype, codes, acts, scales):
    """Run the groups through the PE RTL, then their psums with `scales` through the dequant RTL."""
    stim = []
    for g in range(len(scales)):
        sl = slice(g * GROUP, (g + 1) * GROUP)
        stim += group_cycles(dtype, codes[sl], acts[sl], PE_PARAMS["lanes"])
    outs, _ = simulate(PE, PE_PARAMS, stim)
    psums = [_signed(o[0]) for o in outs]
    entries = []
    for g, (psum, (fmt, code)) in enumerate(zip(psums, scales)):
        entries.append(DequantEntry(psum, code, fmt, g == 0, g == len(scales) - 1))
        entries += [None] * BIT_CYCLES[fmt]
    (result,), _ = simulate(DQ, DQ_PARAMS, entries)
    return psums, result[0]


@pytest.mark.parametrize("name", ["int8", "fp4_e2m1", "fp3_er_pos"])
def test_chain_equals_float32_of_exact_group_sums(name):
    dtype = BY_NAME[name]
    rng = np.random.default_rng(7)
    finite = [c for c in range(2**dtype.bits) if np.isfinite(dtype.decode(c))]
    codes = rng.choice(finite, 4 * GROUP)
    acts = rng.integers(-128, 128, 4 * GROUP)
    scales = [(FMT_FP16, int(np.float16(rng.uniform(1e-3, 0.1)).view(np.uint16))),
              (E8M0, 127 - 9), (UINT8, int(rng.integers(1, 256))),
              (FMT_FP16, int(np.float16(-rng.uniform(1e-3, 0.1)).view(np.uint16)))]
    psums, result = _chain(dtype, codes, acts, scales)
    ref = np.float32(0)
    for g, (fmt, code) in enumerate(scales):
        exact_psum = dequant_reference(dtype, codes[g * GROUP:(g + 1) * GROUP], acts[g * GROUP:(g + 1) * GROUP])
        assert psums[g] == exact_psum
        ref = np.float32(ref + np.float32(exact_psum / 2 * _scale_value(fmt, code)))
    assert result == int(np.array([ref], dtype=np.float32).view(np.uint32)[0])


def _term_magnitudes(dtype, codes):
    table = term_table(dtype)
    return np.array([sum(abs(t.coefficient) * 2.0**t.exponent for t in table[int(c)]) for c in codes])


@pytest.mark.parametrize("dtype", [d for d in DATATYPES if d.bits <= 4], ids=lambda d: d.name)
def test_chain_agrees_with_the_fp16_functional_pe(dtype):
    rng = np.random.default_rng(zlib.crc32(dtype.name.encode()))
    finite = [c for c in range(2**dtype.bits) if np.isfinite(dtype.decode(c))]
    # exact regime: one group, activations in {-1, 0, 1}, power-of-two scale
    codes = rng.choice(finite, GROUP)
    acts = rng.integers(-1, 2, GROUP)
    assert np.sum(np.abs(acts) * _term_magnitudes(dtype, codes)) <= 1024   # every FP16 partial sum exact
    k = int(rng.integers(-4, 5))
    _, result = _chain(dtype, codes, acts, [(E8M0, 127 + k)])
    assert _f32(result) == float(bitserial_dot(acts, codes, dtype, np.array([2.0**k]), GROUP))
    # general regime: INT8 activations, FP16 scales, two groups: within the FP16 model's bound
    codes = rng.choice(finite, 2 * GROUP)
    acts = rng.integers(-128, 128, 2 * GROUP)
    scale_codes = [int(np.float16(rng.uniform(1e-3, 0.1)).view(np.uint16)) for _ in range(2)]
    scales = np.array([float(FP16.decode(c)) for c in scale_codes])
    _, result = _chain(dtype, codes, acts, [(FMT_FP16, c) for c in scale_codes])
    fp16 = float(bitserial_dot(acts, codes, dtype, scales, GROUP))
    mags = _term_magnitudes(dtype, codes)
    bound16 = fp16_error_bound(acts, mags, scales, GROUP, ops_per_group=GROUP * 2)
    bound32 = 3 * 2.0**-24 * float(np.sum(np.abs(acts) * mags * np.repeat(scales, GROUP)))
    assert abs(_f32(result) - fp16) <= bound16 + bound32


def _term(field):
    nz, neg, shift = field & 1, field >> 1 & 1, field >> 2
    return Term((-1 if neg else 1) if nz else 0, shift - 1)


@pytest.mark.parametrize("name", ["int8", "int6", "fp4_ea_neg", "fp3_er_pos"])
def test_decoder_feeds_the_pe_the_stream_it_expects(name):
    """Weight codes through the decoder RTL become exactly `group_cycles`' term stream; the PE
    RTL on that stream gives the exact group sum."""
    index = next(i for i, d in enumerate(DATATYPES) if d.name == name)
    dtype, lanes = DATATYPES[index], DEC_PARAMS["lanes"]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    codes = rng.integers(0, 2**dtype.bits, GROUP)
    acts = rng.integers(-128, 128, GROUP)
    slots = []
    for base in range(0, GROUP, lanes):
        slots += [WeightSlot(index, tuple(int(c) for c in codes[base:base + lanes]))]
        slots += [None] * (TERM_CYCLES[index] - 1)
    outs, cycles = simulate(DEC, DEC_PARAMS, slots)
    assert cycles == list(range(len(slots)))                     # one term-cycle per clock, no gaps
    stream = []
    for t, (packed, last) in enumerate(outs):
        slot = t // TERM_CYCLES[index]
        terms = tuple(_term(packed >> (6 * i) & 0x3F) for i in range(lanes))
        stream.append(TermCycle(terms, tuple(int(a) for a in acts[slot * lanes:(slot + 1) * lanes]),
                                t == 0, t == len(outs) - 1))
        assert last == (t % TERM_CYCLES[index] == TERM_CYCLES[index] - 1)
    assert stream == group_cycles(dtype, codes, acts, lanes)
    (psum,), _ = simulate(PE, PE_PARAMS, stream)
    assert _signed(psum[0]) == dequant_reference(dtype, codes, acts)
