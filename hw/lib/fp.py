"""Combinational BF16 multiply and FP32 add in Amaranth, matching `sim.units.fp` bit for bit.

Both blocks implement the reference policy: flush-to-zero of subnormal inputs and of results
whose rounded exponent underflows, unsigned (+0) zeros, signed infinities on overflow, IEEE NaN
rules with the canonical NaN 0x7FC00000, and round-to-nearest-even.

The adder is the textbook single-path design (see e.g. Muller et al., *Handbook of
Floating-Point Arithmetic*, 2nd ed., 2018): order the operands by magnitude, align the smaller
significand with a right shift that keeps guard, round and sticky bits, add or subtract,
normalise (one right shift on carry-out, or a left shift by the leading-zero count from a
priority encoder), round to nearest even and renormalise on round-up carry. Each function adds
its few named intermediate signals to `m.d.comb` and returns the result as an expression, to be
registered by the caller.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed

CANONICAL_NAN = 0x7FC0_0000
FP32_INF = 0x7F80_0000
_EXP = signed(11)


def _sig(m: Module, shape, name: str, value: Value) -> Signal:
    """A named comb signal. Kept few on purpose: each level of signals costs Amaranth's Python
    simulator one settling pass, so intermediate values stay expressions where they are used once."""
    s = Signal(shape, name=name)
    m.d.comb += s.eq(value)
    return s


def _pack(sign: Value, exp: Value, frac23: Value, is_nan: Value, is_inf: Value,
          inf_sign: Value, is_zero: Value) -> Value:
    """Final result mux: NaN, then infinity, then zero/FTZ, then overflow, then the finite result."""
    inf = lambda s: Cat(Const(FP32_INF, 31), s)
    finite = Mux(is_zero | (exp < 1), 0, Mux(exp >= 255, inf(sign), Cat(frac23, exp[:8], sign)))
    return Mux(is_nan, CANONICAL_NAN, Mux(is_inf, inf(inf_sign), finite))


def bf16_mul(m: Module, a: Value, b: Value, prefix: str) -> Value:
    """FP32 bits of the exact product of two BF16 operands (8x8-bit significand multiplier)."""
    sa, ea, fa = a[15], a[7:15], a[0:7]
    sb, eb, fb = b[15], b[7:15], b[0:7]
    za, zb = ea == 0, eb == 0
    inf_a = (ea == 0xFF) & (fa == 0)
    inf_b = (eb == 0xFF) & (fb == 0)
    nan_a = (ea == 0xFF) & (fa != 0)
    nan_b = (eb == 0xFF) & (fb != 0)
    prod = _sig(m, 16, f"{prefix}_prod", Cat(fa, 1) * Cat(fb, 1))
    hi = prod[15]
    exp = Cat(ea, Const(0, 3)).as_signed() + eb - 127 + hi
    frac23 = Mux(hi, Cat(Const(0, 8), prod[0:15]), Cat(Const(0, 9), prod[0:14]))
    is_nan = nan_a | nan_b | (inf_a & zb) | (inf_b & za)
    is_inf = inf_a | inf_b
    return _pack(sa ^ sb, exp, frac23, is_nan, is_inf, sa ^ sb, za | zb)


def _leading_zeros(v: Value, width: int) -> Value:
    """Priority encoder: number of zero bits above the highest set bit of `v` (width if v == 0)."""
    count: Value = Const(width, 6)
    for i in range(width):
        count = Mux(v[i], width - 1 - i, count)
    return count


def fp32_add(m: Module, a: Value, b: Value, prefix: str) -> Value:
    """FP32 bits of a + b, rounded to nearest even once (guard/round/sticky), FTZ."""
    swap = b[0:31] > a[0:31]
    big = _sig(m, 32, f"{prefix}_big", Mux(swap, b, a))
    small = _sig(m, 32, f"{prefix}_small", Mux(swap, a, b))

    def parts(x: Value):
        exp, frac = x[23:31], x[0:23]
        zero = exp == 0
        return (x[31], exp, Mux(zero, 0, Cat(frac, 1)), zero,
                (exp == 0xFF) & (frac == 0), (exp == 0xFF) & (frac != 0))

    s_big, e_big, m_big, z_big, inf_big, nan_big = parts(big)
    s_small, e_small, m_small, _, inf_small, nan_small = parts(small)

    diff = e_big - e_small
    shift = Mux(diff > 27, 27, diff)[:5]
    small_ext = Cat(Const(0, 3), m_small)
    aligned = small_ext >> shift
    sticky = (aligned << shift)[:27] != small_ext
    big_ext = Cat(Const(0, 3), m_big)
    small_al = aligned | sticky
    sub = s_big ^ s_small
    total = _sig(m, 28, f"{prefix}_sum", Mux(sub, big_ext - small_al, big_ext + small_al))

    carry = total[27]
    lzc = _sig(m, 6, f"{prefix}_lzc", _leading_zeros(total[:27], 27))
    right = Cat(total[1] | total[0], total[2:28])
    v = _sig(m, 27, f"{prefix}_v", Mux(carry, right, (total[:27] << lzc[:5])[:27]))
    e_big_s = Cat(e_big, Const(0, 3)).as_signed()
    exp_pre = _sig(m, _EXP, f"{prefix}_epre", Mux(carry, e_big_s + 1, e_big_s - lzc))

    round_up = v[2] & (v[1] | v[0] | v[3])
    mant = _sig(m, 25, f"{prefix}_mant", v[3:27] + round_up)
    exp = exp_pre + mant[24]
    frac23 = Mux(mant[24], mant[1:24], mant[0:23])

    is_nan = nan_big | nan_small | (inf_big & inf_small & sub)
    is_inf = inf_big | inf_small
    inf_sign = Mux(inf_big, s_big, s_small)
    return _pack(s_big, exp, frac23, is_nan, is_inf, inf_sign, (total == 0) | z_big)


def round_to_fp32(m: Module, sign: Value, mag: Value, width: int, exp: Value, prefix: str,
                  nan: Value | None = None, inf: Value | None = None) -> Value:
    """FP32 bits of (−1)^sign · mag · 2^exp for an unsigned `width`-bit integer `mag` and a signed
    exponent `exp`: normalise with a logarithmic leading-zero shifter (shift by 32, 16, …, 1
    where the top bits are zero; the taken shifts are the leading-zero count), round to nearest even
    once (guard and sticky bits), FTZ underflow, +0 for mag = 0; `nan`/`inf` force the canonical
    NaN / the infinity of `sign`. The reference is `sim.units.fp.round_to_fp32`."""
    n = max(width, 26)
    v = _sig(m, n, f"{prefix}_n0", Cat(mag, Const(0, n - width)) if n > width else mag)
    lz_bits = []
    for k in reversed([1 << i for i in range((n - 1).bit_length())]):
        top_zero = _sig(m, 1, f"{prefix}_z{k}", v[n - k:] == 0)
        v = _sig(m, n, f"{prefix}_n{k}", Mux(top_zero, (v << k)[:n], v))
        lz_bits.insert(0, top_zero)
    lzc = Cat(*lz_bits)
    q, guard, sticky = v[n - 24:n], v[n - 25], v[:n - 25] != 0
    mant = _sig(m, 25, f"{prefix}_mant", q + (guard & (sticky | q[0])))
    exp_s = exp.as_signed()
    biased = exp_s + (n - 1 + 127) - lzc + mant[24]
    frac23 = Mux(mant[24], mant[1:24], mant[0:23])
    nan = Const(0) if nan is None else nan
    inf = Const(0) if inf is None else inf
    return _pack(sign, biased, frac23, nan, inf, sign, mag == 0)
