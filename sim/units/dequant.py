"""Reference model of the per-group bit-serial dequantization unit (spec of `hw/units/dequant.py`).

Hardware modelled: the dequantization unit behind the BitMoD PE (Chen et al., HPCA 2025, §IV:
"a bit-serial dequantization unit to rescale the per-group partial sum"). After a group's
weights have streamed through the PE (`sim.units.bitserial_pe`), the group's integer partial
sum is multiplied by the group's scale and added into the output accumulator. The multiply is
bit-serial over the scale's significand (one significand bit per cycle, MSB first, Horner
shift-and-add of the partial sum), so a narrow scale costs few cycles; a group of 128 weights
keeps the PE busy for ≥ 64 cycles (2 term-cycles per FP4 weight, 4 lanes), which hides them.

Scale datatypes (`fmt`, selected per group), decoded as `sim.numerics` defines them:

| fmt | name     | code bits | value                                    | bit-cycles |
| --- | -------- | --------- | ---------------------------------------- | ---------- |
| 0   | uint8    | 8         | c (the per-group code of the `int8_fp16` two-level scale, `sim.numerics.quantizers`) | 8 |
| 1   | e8m0     | 8         | 2^(c−127), 255 = NaN (OCP MX v1.0 §5.4.1; `E8M0_SCALE`) | 1 |
| 2   | fp8_e4m3 | 8         | OCP FP8 E4M3 "fn": subnormals, no inf, S.1111.111 = NaN (`FP8_E4M3`) | 4 |
| 3   | fp16     | 16        | IEEE binary16 with subnormals, ±inf, NaN (`FP16`; the quantizers' default `fp16` scale) | 11 |

Arithmetic (exact, then rounded once, the policy of `sim.units.fp`):

* `psum`: `psum_width`-bit two's complement, LSB = 2^−1 (the PE's accumulator);
* product: psum · scale computed exactly as an integer times a power of two and rounded once to
  FP32 (round-to-nearest-even, flush-to-zero underflow, overflow to signed infinity, +0 for
  every zero); a NaN scale, or an infinite scale times a zero psum, gives the canonical NaN;
  an infinite scale times a non-zero psum gives the infinity of the product's sign;
* output accumulator: FP32, `out = (+0 if clear else out) + product` with `sim.units.fp.fp32_add`.

Protocol and timing: an entry (psum, scale code, fmt, clear, last) sampled at edge t loads the
unit; edges t+1 … t+n run the n = `BIT_CYCLES[fmt]` Horner steps, edge t+n+1 registers the
rounded product, edge t+n+2 the output accumulator; with `last`, `done` is high and `result`
holds the accumulator right after edge t+n+2. The unit is busy (`ready` low) for edges
t+1 … t+n: the next entry may be sampled at edge t+n+1 at the earliest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sim.units.fp import CANONICAL_NAN, FP32_INF, fp32_add, round_to_fp32

UINT8, E8M0, FP8_E4M3, FP16 = 0, 1, 2, 3
FORMATS = ("uint8", "e8m0", "fp8_e4m3", "fp16")
BIT_CYCLES = (8, 1, 4, 11)
SCALE_BITS = 16
FMT_BITS = 2
PIPELINE_CYCLES = 2

ZERO, FINITE, INF, NAN = "zero", "finite", "inf", "nan"


@dataclass(frozen=True)
class Scale:
    """A decoded scale: value = (−1)^sign · significand · 2^exponent (exact integers)."""

    kind: str
    sign: int
    significand: int
    exponent: int


def _float(code: int, exp_bits: int, man_bits: int, bias: int, special: str) -> Scale:
    sign = code >> (exp_bits + man_bits) & 1
    e = code >> man_bits & ((1 << exp_bits) - 1)
    m = code & ((1 << man_bits) - 1)
    e_all, m_all = (1 << exp_bits) - 1, (1 << man_bits) - 1
    if special == "ieee" and e == e_all:
        return Scale(NAN if m else INF, sign, 0, 0)
    if special == "fn" and e == e_all and m == m_all:
        return Scale(NAN, sign, 0, 0)
    if e == 0:
        return Scale(FINITE if m else ZERO, sign, m, 1 - bias - man_bits)
    return Scale(FINITE, sign, m | 1 << man_bits, e - bias - man_bits)


def decode_scale(fmt: int, code: int) -> Scale:
    """The exact value of scale `code` in datatype `fmt` (one of `FORMATS` by index)."""
    if fmt == UINT8:
        code &= 0xFF
        return Scale(FINITE if code else ZERO, 0, code, 0)
    if fmt == E8M0:
        code &= 0xFF
        return Scale(NAN, 0, 0, 0) if code == 0xFF else Scale(FINITE, 0, 1, code - 127)
    if fmt == FP8_E4M3:
        return _float(code & 0xFF, 4, 3, 7, "fn")
    if fmt == FP16:
        return _float(code & 0xFFFF, 5, 10, 15, "ieee")
    raise ValueError(f"scale format {fmt} not in 0..{len(FORMATS) - 1}")


def scaled_psum(psum: int, scale: Scale, rounding: str = "rne") -> int:
    """FP32 bits of psum · 2^−1 · scale, rounded once (RNE, FTZ, +0 zeros; `rounding="rtz"`
    exists only to prove that verification notices a wrong mode)."""
    if scale.kind == NAN or (scale.kind == INF and psum == 0):
        return CANONICAL_NAN
    if scale.kind == INF:
        return (int(psum < 0) ^ scale.sign) << 31 | FP32_INF
    if psum == 0 or scale.kind == ZERO:
        return 0
    return round_to_fp32(int(psum < 0) ^ scale.sign, abs(psum) * scale.significand, scale.exponent - 1,
                        rounding)


@dataclass(frozen=True)
class DequantEntry:
    """One group's partial sum (signed integer, LSB = 2^−1), its scale code and datatype."""

    psum: int
    scale: int
    fmt: int
    clear: bool = False
    last: bool = False


@dataclass(frozen=True)
class DequantModel:
    """Bit- and cycle-exact model of the bit-serial dequantization unit."""

    psum_width: int = 32
    rounding: str = "rne"

    def latency_cycles_of(self, fmt: int) -> int:
        return BIT_CYCLES[fmt] + PIPELINE_CYCLES

    @property
    def latency_cycles(self) -> int:
        """The longest latency (drain length for the co-simulator)."""
        return max(BIT_CYCLES) + PIPELINE_CYCLES

    def product(self, entry: DequantEntry) -> int:
        return scaled_psum(entry.psum, decode_scale(entry.fmt, entry.scale), self.rounding)

    def accumulate(self, acc: int, product: int, clear: bool) -> int:
        return fp32_add(0 if clear else acc, product, self.rounding)

    def run(self, stimulus: Sequence[DequantEntry | None]) -> tuple[list[tuple[int]], list[int]]:
        """Results (1-tuples of FP32 bits) and the edge after which each is visible; an entry
        presented while the unit is busy is a protocol error (ValueError)."""
        lo, hi = -(1 << (self.psum_width - 1)), (1 << (self.psum_width - 1)) - 1
        acc = 0
        free_at = 0
        outputs: list[tuple[int]] = []
        cycles: list[int] = []
        for t, entry in enumerate(stimulus):
            if entry is None:
                continue
            if t < free_at:
                raise ValueError(f"entry at cycle {t} while the unit is busy until cycle {free_at}")
            if not lo <= entry.psum <= hi:
                raise ValueError(f"psum {entry.psum} outside the {self.psum_width}-bit signed range")
            n = BIT_CYCLES[entry.fmt]
            free_at = t + n + 1
            acc = self.accumulate(acc, self.product(entry), entry.clear)
            if entry.last:
                outputs.append((acc,))
                cycles.append(t + self.latency_cycles_of(entry.fmt))
        return outputs, cycles


def idle_cycles_after(fmt: int) -> int:
    """Bubbles a stream must leave after an entry of datatype `fmt` before the next entry."""
    return BIT_CYCLES[fmt]
