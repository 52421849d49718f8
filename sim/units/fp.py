"""Reference BF16/FP32 arithmetic with a flush-to-zero policy, defined on exact integers.

The arithmetic is the specification of the RTL floating-point blocks in `hw/lib/fp.py`:

* **Exact, then round once.** An operation computes its exact result as an integer significand
  times a power of two and rounds it once to a 24-bit FP32 significand (round-to-nearest-even by
  default; round-toward-zero exists only to prove that verification notices a flipped mode).
* **Flush to zero (FTZ).** Subnormal inputs (exponent field 0) are read as zero. A result whose
  exponent after rounding to 24 bits (with an unbounded exponent range) falls below the FP32
  minimum normal exponent becomes +0. Subnormals are never produced.
* **Zeros are unsigned.** Every zero result is +0 (including x + (-x), 0 * y, and -0 inputs).
* **Overflow** to an exponent above FP32's maximum gives a correctly signed infinity.
* **Special values** follow IEEE 754: NaN in gives NaN out, inf * 0 and inf + (-inf) give NaN,
  every NaN produced is the canonical quiet NaN 0x7FC00000.
"""
from __future__ import annotations

FP32_BIAS = 127
FP32_SIG_BITS = 24
CANONICAL_NAN = 0x7FC0_0000
FP32_INF = 0x7F80_0000
BF16_MAX = 0x7F7F
ROUNDING_MODES = ("rne", "rtz")

ZERO, NORMAL, INF, NAN = "zero", "normal", "inf", "nan"


def decode(bits: int, exp_bits: int, frac_bits: int) -> tuple[str, int, int, int]:
    """(kind, sign, significand, exponent) with value = (-1)**sign * significand * 2**exponent."""
    sign = bits >> (exp_bits + frac_bits) & 1
    exp = bits >> frac_bits & ((1 << exp_bits) - 1)
    frac = bits & ((1 << frac_bits) - 1)
    if exp == (1 << exp_bits) - 1:
        return (NAN if frac else INF), sign, 0, 0
    if exp == 0:
        return ZERO, 0, 0, 0
    bias = (1 << (exp_bits - 1)) - 1
    return NORMAL, sign, frac | (1 << frac_bits), exp - bias - frac_bits


def decode_bf16(bits: int) -> tuple[str, int, int, int]:
    return decode(bits, 8, 7)


def decode_fp32(bits: int) -> tuple[str, int, int, int]:
    return decode(bits, 8, 23)


def round_to_fp32(sign: int, significand: int, exponent: int, rounding: str = "rne") -> int:
    """Round (-1)**sign * significand * 2**exponent (exact integers) to FP32 bits, FTZ."""
    if significand == 0:
        return 0
    shift = significand.bit_length() - FP32_SIG_BITS
    if shift > 0:
        q = significand >> shift
        rem = significand & ((1 << shift) - 1)
        half = 1 << (shift - 1)
        if rounding == "rne":
            q += rem > half or (rem == half and q & 1)
        elif rounding != "rtz":
            raise ValueError(f"unknown rounding mode {rounding!r}; expected one of {ROUNDING_MODES}")
        if q >> FP32_SIG_BITS:
            q >>= 1
            shift += 1
    else:
        q = significand << -shift
    biased = exponent + shift + (FP32_SIG_BITS - 1) + FP32_BIAS
    if biased < 1:
        return 0
    if biased >= 255:
        return sign << 31 | FP32_INF
    return sign << 31 | biased << 23 | (q & ((1 << 23) - 1))


def bf16_mul(a: int, b: int, rounding: str = "rne") -> int:
    """BF16 x BF16 -> FP32. The 8x8-bit significand product is exact in FP32's 24 bits, so only
    the exponent range (overflow to inf, FTZ underflow) can change the value."""
    ka, sa, ma, ea = decode_bf16(a)
    kb, sb, mb, eb = decode_bf16(b)
    if NAN in (ka, kb) or (ka == INF and kb == ZERO) or (kb == INF and ka == ZERO):
        return CANONICAL_NAN
    if INF in (ka, kb):
        return (sa ^ sb) << 31 | FP32_INF
    if ZERO in (ka, kb):
        return 0
    return round_to_fp32(sa ^ sb, ma * mb, ea + eb, rounding)


def fp32_add(a: int, b: int, rounding: str = "rne") -> int:
    """FP32 + FP32 -> FP32: exact sum, rounded once, FTZ, unsigned zeros."""
    ka, sa, ma, ea = decode_fp32(a)
    kb, sb, mb, eb = decode_fp32(b)
    if NAN in (ka, kb) or (ka == INF and kb == INF and sa != sb):
        return CANONICAL_NAN
    if ka == INF:
        return sa << 31 | FP32_INF
    if kb == INF:
        return sb << 31 | FP32_INF
    e = min(ea, eb)
    total = (-1) ** sa * (ma << (ea - e)) + (-1) ** sb * (mb << (eb - e))
    return round_to_fp32(int(total < 0), abs(total), e, rounding)
