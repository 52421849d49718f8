"""On-chip code-to-term decoder: weight codes + per-group datatype → the PE's term stream (RTL).

`sim.units.term_decoder` is the bit- and cycle-exact specification. Inputs: `codes` (8 bits per
lane, lane i in bits [8i, 8i+8); narrower datatypes use the low bits), `dtype` (index into
`sim.units.bitserial_pe.DATATYPES`), `valid`. Outputs: `terms` (the PE's 6-bit term field per
lane: bit 0 non-zero, bit 1 negative, bits 2..5 shift = exponent + 1), `term_valid`,
`slot_last`, `ready`.

Decoding is computed from the datatypes' bit fields, not from a value table:

* INT8 / INT6: radix-4 Booth digit i of the two's-complement code b is
  d = b[2i] + b[2i−1] − 2·b[2i+1] (b[−1] = 0); term = sign(d)·2^(2i + [|d| = 2]), least
  significant digit first (4 or 3 digits);
* FP4 (E2M1) and FP3 (E2M0): the magnitude in units of the smallest subnormal is
  n = m (exponent field 0) or (2^M + m) << (e − 1); BitMoD variants replace the −0 code by their
  special value (`BitmodFormat.extra_value`, ±5/±8 for FP4, ±3/±6 for FP3); the terms are the two
  highest set bits of n, most significant first, a missing one being a zero term.

At the sampling edge all terms of every lane are decoded into a shift register; one term-cycle
leaves per clock (`term_valid`), the last with `slot_last`; `ready` is high while at most the
last term is pending, so weight slots stream back to back.
"""
from __future__ import annotations

import random
from typing import Mapping

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.units.base import ParamSpec, UnitDef
from sim.numerics.bitmod import BitmodFormat
from sim.numerics.integer import IntFormat
from sim.units.bitserial_pe import DATATYPES, SHIFT_BITS, TERM_EXP_OFFSET
from sim.units.term_decoder import DTYPE_BITS, TERM_CYCLES, TermDecoderModel, WeightSlot

TERM_BITS = 2 + SHIFT_BITS
CODE_BITS = 8
MAX_TERMS = max(TERM_CYCLES)


def _field(nz: Value, neg: Value, exponent: Value) -> Value:
    return Cat(nz, neg & nz, (exponent + TERM_EXP_OFFSET)[:SHIFT_BITS])


def _booth_terms(code: Value, bits: int) -> list[Value]:
    out = []
    for i in range((bits + 1) // 2):
        b1, b0 = code[2 * i + 1], code[2 * i]
        prev = code[2 * i - 1] if i else Const(0)
        nz = ~((b1 == b0) & (b0 == prev))
        neg = b1 & ~(b0 & prev)
        two = (b1 & ~b0 & ~prev) | (~b1 & b0 & prev)
        out.append(_field(nz, neg, Const(2 * i, 5) + two))
    return out


def _float_terms(m: Module, code: Value, dtype, name: str) -> list[Value]:
    base = dtype.base if isinstance(dtype, BitmodFormat) else dtype
    e_bits, m_bits = base.exponent_bits, base.mantissa_bits
    unit = 1 - base.exponent_bias - m_bits
    man = code[:m_bits] if m_bits else Const(0, 1)
    e = code[m_bits:m_bits + e_bits]
    n = Signal(5, name=f"{name}_n")
    sign = Signal(name=f"{name}_sign")
    magnitude = Mux(e == 0, man, (Cat(man, Const(1, 1)) if m_bits else Const(1, 1)) << (e - 1)[:e_bits])
    if isinstance(dtype, BitmodFormat):
        extra = code[m_bits + e_bits] & (e == 0) & (man == 0)
        m.d.comb += [n.eq(Mux(extra, int(abs(dtype.extra_value) / 2.0**unit), magnitude)),
                     sign.eq(Mux(extra, int(dtype.extra_value < 0), code[m_bits + e_bits]))]
    else:
        m.d.comb += [n.eq(magnitude), sign.eq(code[m_bits + e_bits])]
    terms = []
    rest: Value = n
    for j in range(2):
        pos = Signal(3, name=f"{name}_pos{j}")
        select = Const(0, 3)
        for k in range(5):
            select = Mux(rest[k], k, select)
        m.d.comb += pos.eq(select)
        terms.append(_field(rest != 0, sign, pos + unit))
        if j == 0:
            rest = Signal(5, name=f"{name}_rest")
            m.d.comb += rest.eq(n & ~(Const(1, 5) << pos))
    return terms


class TermDecoder(wiring.Component):
    """`lanes` code-to-term decoders with a term shift register, one term-cycle per clock."""

    def __init__(self, lanes: int = 4):
        self.lanes = lanes
        super().__init__({
            "codes": In(CODE_BITS * lanes),
            "dtype": In(DTYPE_BITS),
            "valid": In(1),
            "terms": Out(TERM_BITS * lanes),
            "term_valid": Out(1),
            "slot_last": Out(1),
            "ready": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        # The decoder is its own simulator process, re-run only when codes or dtype change.
        m.submodules.decode = dec = Module()
        decoded = [Signal(TERM_BITS * self.lanes, name=f"decoded{j}") for j in range(MAX_TERMS)]
        n_terms = Signal(3)
        with dec.Switch(self.dtype):
            for index, dtype in enumerate(DATATYPES):
                with dec.Case(index):
                    per_lane = []
                    for lane in range(self.lanes):
                        code = self.codes.word_select(lane, CODE_BITS)[:dtype.bits]
                        per_lane.append(_booth_terms(code, dtype.bits) if isinstance(dtype, IntFormat)
                                        else _float_terms(dec, code, dtype, f"{dtype.name}_l{lane}"))
                    for j in range(TERM_CYCLES[index]):
                        dec.d.comb += decoded[j].eq(Cat(*(terms[j] for terms in per_lane)))
                    dec.d.comb += n_terms.eq(TERM_CYCLES[index])

        stages = [Signal(TERM_BITS * self.lanes, name=f"stage{j}") for j in range(MAX_TERMS)]
        count = Signal(3)
        m.d.comb += [self.ready.eq(count <= 1), self.terms.eq(stages[0]),
                     self.term_valid.eq(count != 0), self.slot_last.eq(count == 1)]
        with m.If(self.valid & self.ready):
            m.d.sync += [s.eq(d) for s, d in zip(stages, decoded)]
            m.d.sync += count.eq(n_terms)
        with m.Elif(count != 0):
            m.d.sync += [s.eq(n) for s, n in zip(stages, stages[1:] + [Const(0, TERM_BITS * self.lanes)])]
            m.d.sync += count.eq(count - 1)
        return m


# --- streaming test interface -------------------------------------------------------------

def _slot_stream(slots: list[WeightSlot], rng: random.Random | None) -> list[WeightSlot | None]:
    out: list[WeightSlot | None] = []
    for slot in slots:
        out.append(slot)
        extra = 1 if rng is not None and rng.random() < 0.1 else 0
        out += [None] * (TERM_CYCLES[slot.dtype] - 1 + extra)
    return out


def stimulus(params: Mapping[str, int], n: int, rng: random.Random) -> list[WeightSlot | None]:
    """n random weight slots (random datatype per group of 1..32 slots, uniform codes, 10 %
    extra bubbles), then every code of every datatype in every lane."""
    lanes = params["lanes"]
    slots: list[WeightSlot] = []
    while len(slots) < n:
        index = rng.randrange(len(DATATYPES))
        size = 1 << DATATYPES[index].bits
        slots += [WeightSlot(index, tuple(rng.randrange(size) for _ in range(lanes)))
                  for _ in range(rng.randint(1, 32))]
    edge: list[WeightSlot] = []
    for index, dtype in enumerate(DATATYPES):
        size = 1 << dtype.bits
        edge += [WeightSlot(index, tuple((c + 37 * i) % size for i in range(lanes))) for c in range(size)]
    return _slot_stream(slots, rng) + _slot_stream(edge, None)


def encode(params: Mapping[str, int], slot: WeightSlot | None) -> tuple[int, ...]:
    if slot is None:
        return (0, 0, 0)
    return (sum(c << (CODE_BITS * i) for i, c in enumerate(slot.codes)), slot.dtype, 1)


UNIT = UnitDef(
    name="term_decoder",
    summary="code-to-term decoder: weight codes + per-group datatype -> the bit-serial PE's term stream",
    params=(ParamSpec("lanes", 4, 1, 16, "lanes (BitMoD: 4)"),),
    build=lambda p: TermDecoder(p["lanes"]),
    model=lambda p: TermDecoderModel(p["lanes"]),
    inputs=("codes", "dtype", "valid"),
    outputs=("terms", "slot_last"),
    out_valid="term_valid",
    encode=encode,
    stimulus=stimulus,
    width_param="lanes",
    sweep=({"lanes": 2}, {"lanes": 4}, {"lanes": 8}),
)
