"""Per-group bit-serial dequantization unit: group partial sum × scale, FP32 accumulation (RTL).

The unit behind the BitMoD PE (Chen et al., HPCA 2025, §IV) that rescales each group's integer
partial sum by the group's scale; `sim.units.dequant` is the bit- and cycle-exact specification.
Ports: `psum` (`psum_width`-bit two's complement, LSB = 2^−1: the PE's accumulator), `scale`
(16-bit code; 8-bit datatypes use bits 0..7), `fmt` (0 uint8, 1 e8m0, 2 fp8_e4m3, 3 fp16),
`valid`, `clear` (first group of an output), `last` (result requested) → `result` (FP32),
`done` (one-cycle pulse), `ready` (an entry may be presented).

Datapath: the scale is decoded at the sampling edge into a significand left-aligned in an
11-bit shift register, an exponent and NaN/inf flags; one significand bit per clock (MSB first)
a Horner register does h ← 2·h + bit·psum (`BIT_CYCLES[fmt]` clocks: 8, 1, 4, 11), the last
step writing the product register; then one stage normalises and rounds |prod| · 2^(exp−1) to FP32 (`hw.lib.fp.round_to_fp32`) and
one stage adds it into the FP32 accumulator (`hw.lib.fp.fp32_add`). Latency n + 2 edges;
a new entry may be sampled n + 1 edges after the previous one.
"""
from __future__ import annotations

import random
import struct
from typing import Mapping

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.lib.fp import fp32_add, round_to_fp32
from hw.units.base import ParamSpec, UnitDef
from sim.units.dequant import (BIT_CYCLES, E8M0, FMT_BITS, FORMATS, FP8_E4M3, FP16, SCALE_BITS,
                               UINT8, DequantEntry, DequantModel)

SIG_BITS = max(BIT_CYCLES)
_EXP = signed(10)


class Dequant(wiring.Component):
    """Bit-serial psum × scale multiplier, FP32 rounding stage and FP32 output accumulator."""

    def __init__(self, psum_width: int = 32):
        self.psum_width = psum_width
        super().__init__({
            "psum": In(psum_width),
            "scale": In(SCALE_BITS),
            "fmt": In(FMT_BITS),
            "valid": In(1),
            "clear": In(1),
            "last": In(1),
            "result": Out(32),
            "done": Out(1),
            "ready": Out(1),
        })

    def _decode(self, m: Module):
        """Comb decode of the presented scale: (aligned significand, exponent − 1, sign, nan, inf, n)."""
        sig = Signal(SIG_BITS)
        exp = Signal(_EXP)
        sign, nan, inf = Signal(), Signal(), Signal()
        n = Signal(4)
        code = self.scale
        with m.Switch(self.fmt):
            with m.Case(UINT8):
                m.d.comb += [sig.eq(code[0:8] << (SIG_BITS - 8)), exp.eq(-1), n.eq(BIT_CYCLES[UINT8])]
            with m.Case(E8M0):
                c = code[0:8]
                m.d.comb += [sig.eq(1 << (SIG_BITS - 1)), exp.eq(c - 128), nan.eq(c == 0xFF),
                             n.eq(BIT_CYCLES[E8M0])]
            with m.Case(FP8_E4M3):
                e, f = code[3:7], code[0:3]
                m.d.comb += [sig.eq(Cat(f, e != 0) << (SIG_BITS - 4)),
                             exp.eq(Mux(e != 0, e, 1) - (7 + 3 + 1)),
                             sign.eq(code[7]), nan.eq((e == 0xF) & (f == 0x7)),
                             n.eq(BIT_CYCLES[FP8_E4M3])]
            with m.Case(FP16):
                e, f = code[10:15], code[0:10]
                special = e == 0x1F
                m.d.comb += [sig.eq(Mux(special, 0, Cat(f, e != 0))),
                             exp.eq(Mux(e != 0, e, 1) - (15 + 10 + 1)),
                             sign.eq(code[15]), nan.eq(special & (f != 0)), inf.eq(special & (f == 0)),
                             n.eq(BIT_CYCLES[FP16])]
        return sig, exp, sign, nan, inf, n

    def elaborate(self, platform):
        m = Module()
        w = self.psum_width
        d_sig, d_exp, d_sign, d_nan, d_inf, d_n = self._decode(m)

        psum = Signal(signed(w))
        sig = Signal(SIG_BITS)
        exp = Signal(_EXP)
        sign, nan, inf, clear, last = Signal(), Signal(), Signal(), Signal(), Signal()
        count = Signal(4)
        horner = Signal(signed(w + SIG_BITS))
        prod = Signal(signed(w + SIG_BITS))
        fire = Signal()

        m.d.comb += self.ready.eq(count == 0)
        load = self.valid & self.ready
        with m.If(load):
            m.d.sync += [psum.eq(self.psum.as_signed()), sig.eq(d_sig), exp.eq(d_exp),
                         sign.eq(d_sign), nan.eq(d_nan), inf.eq(d_inf), count.eq(d_n), horner.eq(0),
                         clear.eq(self.clear), last.eq(self.last)]
        with m.Elif(count != 0):
            step = (horner << 1) + Mux(sig[-1], psum, 0)
            m.d.sync += [horner.eq(step), sig.eq(sig << 1), count.eq(count - 1)]
            with m.If(count == 1):
                m.d.sync += prod.eq(step)
        m.d.sync += fire.eq(count == 1)

        # The rounding and accumulate stages read registers that change once per entry; as
        # submodules they are separate simulator processes, not re-run on every Horner step.
        m.submodules.round = rnd = Module()
        m.submodules.accumulate = accm = Module()
        mag = Mux(prod[-1], -prod, prod)[:w + SIG_BITS - 1]
        rounded = round_to_fp32(rnd, psum[-1] ^ sign, mag, w + SIG_BITS - 1, exp, "rnd",
                                nan=nan | (inf & (psum == 0)), inf=inf)
        product = Signal(32)
        add_go, add_clear, add_last = Signal(), Signal(), Signal()
        m.d.sync += [product.eq(rounded), add_go.eq(fire), add_clear.eq(clear), add_last.eq(last)]

        acc = Signal(32)
        with m.If(add_go):
            m.d.sync += acc.eq(fp32_add(accm, Mux(add_clear, 0, acc), product, "acc"))
        m.d.sync += self.done.eq(add_go & add_last)
        m.d.comb += self.result.eq(acc)
        return m


# --- streaming test interface -------------------------------------------------------------

def _f16(x: float) -> int:
    return struct.unpack("<H", struct.pack("<e", x))[0]


# Special and boundary codes of every scale datatype (zero, −0, smallest/largest subnormal,
# smallest normal, one, largest finite, infinities, NaNs, negative values).
SPECIAL_CODES: dict[int, tuple[int, ...]] = {
    UINT8: (0, 1, 2, 127, 128, 254, 255),
    E8M0: (0, 1, 100, 126, 127, 128, 150, 253, 254, 255),
    FP8_E4M3: (0x00, 0x80, 0x01, 0x07, 0x08, 0x38, 0xB8, 0x7E, 0xFE, 0x7F, 0xFF, 0x77),
    FP16: (0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
           0x7C01, 0x7E00, 0xFFFF, _f16(0.1), _f16(-3.0e-3)),
}


def _random_psum(w: int, rng: random.Random) -> int:
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    mode = rng.random()
    if mode < 0.6:
        return rng.randint(lo, hi)
    if mode < 0.85:
        bits = rng.randint(1, w - 1)
        return rng.randint(-(1 << bits), (1 << bits) - 1)
    return rng.choice((lo, hi, 0, 1, -1, lo + 1, hi - 1))


def _random_scale(fmt: int, rng: random.Random) -> int:
    if rng.random() < 0.1:
        return rng.choice(SPECIAL_CODES[fmt])
    if fmt == E8M0 and rng.random() < 0.8:
        return rng.randint(127 - 40, 127 + 20)
    return rng.getrandbits(16 if fmt == FP16 else 8)


def _schedule(entries: list[DequantEntry], rng: random.Random | None) -> list[DequantEntry | None]:
    """Entries with the bubbles the protocol needs after each (plus random extra ones)."""
    out: list[DequantEntry | None] = []
    for e in entries:
        out.append(e)
        extra = rng.choice((0,) * 9 + (2,)) if rng is not None else 0
        out += [None] * (BIT_CYCLES[e.fmt] + extra)
    return out


def _output(items: list[tuple[int, int, int]]) -> list[DequantEntry]:
    """One output's groups (psum, scale code, fmt) with clear on the first and last on the last."""
    k = len(items)
    return [DequantEntry(p, s, f, i == 0, i == k - 1) for i, (p, s, f) in enumerate(items)]


def _edge_cases(params: Mapping[str, int]) -> list[DequantEntry]:
    w = params["psum_width"]
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    out: list[DequantEntry] = []
    for fmt in range(len(FORMATS)):
        for code in SPECIAL_CODES[fmt]:
            for p in (0, 1, -1, hi, lo):
                out += _output([(p, code, fmt)])
        if fmt != FP16:                          # every 8-bit code, at an extreme or unit psum
            for code in range(256):
                out += _output([((hi, lo, 1, -1)[code % 4], code, fmt)])
    big = min(hi, (1 << 26) - 1)
    ties = [p for p in ((1 << 25) + 2, (1 << 25) + 6, (1 << 25) + 3, -((1 << 25) + 2)) if lo <= p <= hi]
    out += [e for p in ties for e in _output([(p, 0x3C00, FP16)])]          # round-to-even ties
    out += _output([(hi, 254, E8M0), (hi, 254, E8M0)])                      # overflow to inf
    out += _output([(1, 0, E8M0), (-1, 1, E8M0)])                           # FTZ underflow
    out += _output([(big, 127, E8M0), (-big, 127, E8M0)])                   # exact cancellation: +0
    out += _output([(5, 0x7C00, FP16), (5, 0xFC00, FP16)])                  # inf − inf: NaN
    out += _output([(0, 0x7C00, FP16)])                                     # inf · 0: NaN
    out += _output([(3, 0x7F, FP8_E4M3), (3, 0x3C00, FP16)])                # NaN absorbs
    out += _output([((-1) ** i * (hi >> i % 8), 0x3C00 + i, FP16) for i in range(300)])  # long output
    return out


def stimulus(params: Mapping[str, int], n: int, rng: random.Random) -> list[DequantEntry | None]:
    """n random group entries (random datatype and code per group, outputs of 1..8 groups,
    required plus random bubbles), then the special codes of every datatype at zero, ±1 and
    extreme partial sums, every 8-bit code at an extreme or a unit partial sum, rounding
    ties, overflow, underflow, exact cancellation, inf − inf, a 300-group output."""
    w = params["psum_width"]
    entries: list[DequantEntry] = []
    while len(entries) < n:
        k = rng.randint(1, 8)
        items = []
        for _ in range(k):
            fmt = rng.randrange(len(FORMATS))
            items.append((_random_psum(w, rng), _random_scale(fmt, rng), fmt))
        entries += _output(items)
    return _schedule(entries, rng) + _schedule(_edge_cases(params), None)


def encode(params: Mapping[str, int], entry: DequantEntry | None) -> tuple[int, ...]:
    if entry is None:
        return (0, 0, 0, 0, 0, 0)
    mask = (1 << params["psum_width"]) - 1
    return (entry.psum & mask, entry.scale, entry.fmt, 1, int(entry.clear), int(entry.last))


UNIT = UnitDef(
    name="dequant",
    summary="per-group bit-serial dequantization: psum x scale (uint8/e8m0/fp8/fp16), FP32 accumulator",
    params=(ParamSpec("psum_width", 32, 8, 48, "partial-sum width (the PE's acc_width)"),),
    build=lambda p: Dequant(p["psum_width"]),
    model=lambda p: DequantModel(p["psum_width"]),
    inputs=("psum", "scale", "fmt", "valid", "clear", "last"),
    outputs=("result",),
    out_valid="done",
    encode=encode,
    stimulus=stimulus,
    width_param="psum_width",
    sweep=({"psum_width": 16}, {"psum_width": 24}, {"psum_width": 32}),
)
