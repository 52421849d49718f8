"""Bit-serial mixed-datatype PE: per lane one weight term per cycle, shift-and-add (RTL).

The BitMoD PE (Chen et al., HPCA 2025, §IV-B) with signed integer activations; see
`sim.units.bitserial_pe` for the arithmetic this RTL reproduces. Each of the `lanes` lanes
receives one weight term per clock, already recoded (the term sequence of INT8/INT6 Booth or of
the FP4/FP3 BitMoD codes comes from `sim.numerics.terms`), as a 6-bit field in `terms`
(lane i in bits [6i, 6i+6)): bit 0 `nz` (term is non-zero), bit 1 `neg` (coefficient −1),
bits 2..5 the shift s = exponent + 1. `acts` holds the lanes' `act_width`-bit two's-complement
activations (lane i in bits [W·i, W·i+W)).

Pipeline, one term-cycle per clock at most:

* edge t (sampling): each lane registers ±(a << s) or 0;
* edge t+1: the sum of the lane values is registered;
* edge t+2: the `acc_width`-bit accumulator adds the sum (to 0 if the cycle had `clear`),
  wrapping; with `last`, `done` is high for one cycle and `psum` (the accumulator's
  two's-complement bits, LSB = 2^−1) holds the group's partial sum. `latency_cycles = 2`.
"""
from __future__ import annotations

import random
from typing import Mapping

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.units.base import ParamSpec, UnitDef
from sim.units.bitserial_pe import (DATATYPES, LATENCY_CYCLES, SHIFT_BITS, BitSerialPEModel,
                                    TermCycle, group_cycles, term_field)

TERM_BITS = 2 + SHIFT_BITS


class BitSerialPE(wiring.Component):
    """`lanes`-lane bit-serial PE: per-lane shifter/negator, registered lane sum, accumulator."""

    def __init__(self, act_width: int = 8, acc_width: int = 32, lanes: int = 4):
        if lanes < 1:
            raise ValueError(f"lanes must be >= 1, got {lanes}")
        self.act_width, self.acc_width, self.lanes = act_width, acc_width, lanes
        super().__init__({
            "terms": In(TERM_BITS * lanes),
            "acts": In(act_width * lanes),
            "valid": In(1),
            "clear": In(1),
            "last": In(1),
            "psum": Out(acc_width),
            "done": Out(1),
        })

    @property
    def latency_cycles(self) -> int:
        return LATENCY_CYCLES

    def elaborate(self, platform):
        m = Module()
        lane_width = self.act_width + (1 << SHIFT_BITS)
        lane_vals = []
        for i in range(self.lanes):
            term = self.terms.word_select(i, TERM_BITS)
            nz, neg, shift = term[0], term[1], term[2:]
            act = self.acts.word_select(i, self.act_width).as_signed()
            shifted = act << shift
            v = Signal(signed(lane_width), name=f"lane{i}")
            m.d.sync += v.eq(Mux(nz, Mux(neg, -shifted, shifted), 0))
            lane_vals.append(v)
        total = lane_vals[0]
        for v in lane_vals[1:]:
            total = total + v
        lane_sum = Signal(signed(lane_width + max(1, (self.lanes - 1).bit_length())))
        m.d.sync += lane_sum.eq(total)

        ctrl0 = Signal(3)
        ctrl1 = Signal(3)
        m.d.sync += [ctrl0.eq(Mux(self.valid, self.valid | self.clear << 1 | self.last << 2, 0)),
                     ctrl1.eq(ctrl0)]
        acc = Signal(self.acc_width)
        valid, clear, last = ctrl1[0], ctrl1[1], ctrl1[2]
        with m.If(valid):
            m.d.sync += acc.eq(Mux(clear, 0, acc) + lane_sum)
        m.d.sync += self.done.eq(valid & last)
        m.d.comb += self.psum.eq(acc)
        return m


# --- streaming test interface -------------------------------------------------------------

def _random_acts(n: int, width: int, rng: random.Random) -> list[int]:
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    mode = rng.random()
    if mode < 0.85:
        return [rng.randint(lo, hi) for _ in range(n)]
    if mode < 0.95:
        return [rng.choice((lo, hi, 0, 1, -1)) for _ in range(n)]
    return [rng.choice((lo, hi))] * n


def _finite_codes(dtype) -> list[int]:
    return [c for c in range(2**dtype.bits) if abs(float(dtype.decode(c))) < float("inf")]


def _edge_cases(params: Mapping[str, int], rng: random.Random) -> list[TermCycle | None]:
    lanes, w = params["lanes"], params["act_width"]
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    out: list[TermCycle | None] = []
    for dtype in DATATYPES:
        codes = _finite_codes(dtype)
        codes += codes[: (-len(codes)) % lanes]
        for a in (0, 1, -1, lo, hi):          # every code, zero and extreme activations
            out += group_cycles(dtype, codes, [a] * len(codes), lanes)
        for code in codes[:: max(1, len(codes) // 8)]:   # single-weight-slot groups
            out += group_cycles(dtype, [code] * lanes, [lo] * lanes, lanes)
        zero = [c for c in codes if float(dtype.decode(c)) == 0.0]
        out += group_cycles(dtype, [zero[0]] * lanes, [hi] * lanes, lanes)
    # extreme magnitudes accumulated over a long group (wraps for a narrow accumulator)
    big = DATATYPES[0]
    out += group_cycles(big, [128] * (32 * lanes), [lo] * (32 * lanes), lanes)
    out += group_cycles(big, [127] * (32 * lanes), [hi] * (32 * lanes), lanes)
    return out


def stimulus(params: Mapping[str, int], n: int, rng: random.Random) -> list[TermCycle | None]:
    """n random term-cycles in groups (random datatype, 1..32 weight slots, 10 % bubbles), then
    edge cases: every code of every datatype at zero/±1/extreme activations, long groups."""
    lanes, w = params["lanes"], params["act_width"]
    out: list[TermCycle | None] = []
    made = 0
    while made < n:
        dtype = rng.choice(DATATYPES)
        codes_all = _finite_codes(dtype)
        slots = rng.randint(1, 32)
        codes = [rng.choice(codes_all) for _ in range(slots * lanes)]
        acts = _random_acts(slots * lanes, w, rng)
        for cyc in group_cycles(dtype, codes, acts, lanes):
            if rng.random() < 0.1:
                out.append(None)
            out.append(cyc)
            made += 1
    return out + _edge_cases(params, rng)


def encode(params: Mapping[str, int], cyc: TermCycle | None) -> tuple[int, ...]:
    if cyc is None:
        return (0, 0, 0, 0, 0)
    w = params["act_width"]
    terms = sum(term_field(t) << (TERM_BITS * i) for i, t in enumerate(cyc.terms))
    acts = sum((a & ((1 << w) - 1)) << (w * i) for i, a in enumerate(cyc.acts))
    return (terms, acts, 1, int(cyc.clear), int(cyc.last))


UNIT = UnitDef(
    name="bitserial_pe",
    summary="bit-serial mixed-datatype PE: per-lane weight terms, shift-and-add, integer accumulator",
    params=(ParamSpec("act_width", 8, 2, 16, "signed integer activation width (bits)"),
            ParamSpec("acc_width", 32, 8, 48, "accumulator width (bits, wraps)"),
            ParamSpec("lanes", 4, 1, 16, "lanes (BitMoD: 4)")),
    build=lambda p: BitSerialPE(p["act_width"], p["acc_width"], p["lanes"]),
    model=lambda p: BitSerialPEModel(p["act_width"], p["acc_width"], p["lanes"]),
    inputs=("terms", "acts", "valid", "clear", "last"),
    outputs=("psum",),
    out_valid="done",
    encode=encode,
    stimulus=stimulus,
    width_param="act_width",
    sweep=({"act_width": 8, "acc_width": 24, "lanes": 4},
           {"act_width": 12, "acc_width": 28, "lanes": 4},
           {"act_width": 16, "acc_width": 32, "lanes": 4}),
)
