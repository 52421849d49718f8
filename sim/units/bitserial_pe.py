"""Reference model of a bit-serial mixed-datatype PE (the spec of `hw/units/bitserial_pe.py`).

Hardware modelled: the BitMoD processing element (Chen et al., HPCA 2025, §IV-B, Fig. 5) with
integer activations. The PE has `lanes` (4 in BitMoD) lanes; each lane holds one weight and one
activation. A weight is consumed as its sequence of signed power-of-two terms c · 2^k,
c ∈ {−1, 0, +1}, one term per cycle (`sim.numerics.terms.unified_terms` for the group's
datatype: INT8 → 4 radix-4 Booth terms, INT6 → 3, every FP4/FP3 code and BitMoD variant → 2).
Per term-cycle every lane shifts its activation by the term's exponent and negates it on the
term's sign; the lane results are summed and added into the group accumulator.

Number formats (exact integer shift-and-add, no rounding anywhere):

* activations: signed two's-complement integers of `act_width` bits;
* term exponents k ∈ [−1, 14] travel as the shift s = k + 1 ∈ [0, 15] (`TERM_EXP_OFFSET`; the
  finest term of the supported datatypes is FP4's 2^−1), so lane value = c · a · 2^s;
* accumulator: signed, `acc_width` bits, wrapping modulo 2^acc_width; its LSB is worth 2^−1 in
  activation × weight units, i.e. the group result is 2 · Σ_i a_i · w_i (exact while it fits).

Term-cycle protocol (one entry per clock; `None` is a bubble): `clear` treats the accumulator as
0 before this cycle's lane sum is added (first term-cycle of a group); `last` requests the
result (last term-cycle of a group).

Timing: a term-cycle sampled at edge t has its lane values registered at t, the lane sum at
t+1 and the accumulator updated at t+2; with `last`, `done` is high and `psum` holds the
accumulator (two's-complement bits) right after edge t+2: `latency_cycles = 2`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from sim.numerics.bitmod import (FP3_EA_NEG, FP3_EA_POS, FP3_ER_NEG, FP3_ER_POS, FP4_EA_NEG,
                                 FP4_EA_POS, FP4_ER_NEG, FP4_ER_POS)
from sim.numerics.floating import FP3_E2M0, FP4_E2M1
from sim.numerics.integer import int_format
from sim.numerics.terms import Term, unified_terms

TERM_EXP_OFFSET = 1
SHIFT_BITS = 4
LATENCY_CYCLES = 2

# Weight datatypes the PE serves (BitMoD: INT8/INT6 Booth, FP4/FP3 and their four variants each).
DATATYPES = (int_format(8), int_format(6), FP4_E2M1, FP4_ER_POS, FP4_ER_NEG, FP4_EA_POS,
             FP4_EA_NEG, FP3_E2M0, FP3_ER_POS, FP3_ER_NEG, FP3_EA_POS, FP3_EA_NEG)


@dataclass(frozen=True)
class TermCycle:
    """One clock of input: one term per lane (`terms[i]` for lane i) and the lane activations."""

    terms: tuple[Term, ...]
    acts: tuple[int, ...]
    clear: bool = False
    last: bool = False


def term_shift(term: Term) -> int:
    """The shift amount the PE applies for `term` (exponent + TERM_EXP_OFFSET)."""
    s = term.exponent + TERM_EXP_OFFSET
    if not 0 <= s < 1 << SHIFT_BITS:
        raise ValueError(f"term exponent {term.exponent} outside the PE's shift range")
    return s


def term_field(term: Term) -> int:
    """The PE's 6-bit term field: bit 0 non-zero, bit 1 negative, bits 2..5 the shift."""
    return (term.coefficient != 0) | (term.coefficient < 0) << 1 | term_shift(term) << 2


_TERM_CACHE: dict[tuple[str, int], tuple[Term, ...]] = {}


def code_terms(dtype, code: int) -> tuple[Term, ...]:
    key = (dtype.name, code)
    if key not in _TERM_CACHE:
        _TERM_CACHE[key] = unified_terms(dtype, code)
    return _TERM_CACHE[key]


def group_cycles(dtype, codes: Sequence[int], acts: Sequence[int], lanes: int = 4) -> list[TermCycle]:
    """The term-cycles of one group: weights `codes` of `dtype` times `acts`, `lanes` at a time.

    Weights i, i+1, ..., i+lanes−1 occupy the lanes together for `term_cycles(dtype)` cycles,
    one term each per cycle; the group's first cycle has `clear`, its last `last`.
    """
    if len(codes) != len(acts) or len(codes) == 0 or len(codes) % lanes:
        raise ValueError("codes and acts must be equal-length, a non-empty multiple of lanes")
    out: list[TermCycle] = []
    for base in range(0, len(codes), lanes):
        lane_terms = [code_terms(dtype, int(c)) for c in codes[base:base + lanes]]
        lane_acts = tuple(int(a) for a in acts[base:base + lanes])
        for t in range(len(lane_terms[0])):
            out.append(TermCycle(tuple(ts[t] for ts in lane_terms), lane_acts))
    out[0] = TermCycle(out[0].terms, out[0].acts, True, out[0].last)
    out[-1] = TermCycle(out[-1].terms, out[-1].acts, out[-1].clear, True)
    return out


def dequant_reference(dtype, codes: Sequence[int], acts: Sequence[int]) -> int:
    """2 · Σ a_i · decode(code_i), computed by dequantizing then multiplying (numpy)."""
    w = np.asarray(dtype.decode(np.asarray(codes)), dtype=np.float64)
    return int(2 * np.dot(np.asarray(acts, dtype=np.float64), w))


@dataclass(frozen=True)
class BitSerialPEModel:
    """Bit- and cycle-exact model of the `lanes`-lane bit-serial PE with integer activations."""

    act_width: int = 8
    acc_width: int = 32
    lanes: int = 4

    @property
    def latency_cycles(self) -> int:
        return LATENCY_CYCLES

    def lane_value(self, lane: int, term: Term, act: int) -> int:
        """c · a · 2^s for one lane (the shifter and conditional negation)."""
        return term.coefficient * (act << term_shift(term))

    def run(self, stimulus: Sequence[TermCycle | None]) -> tuple[list[tuple[int]], list[int]]:
        """Group results (1-tuples of accumulator bits) and the edge after which each is visible."""
        mask = (1 << self.acc_width) - 1
        lo, hi = -(1 << (self.act_width - 1)), (1 << (self.act_width - 1)) - 1
        acc = 0
        outputs: list[tuple[int]] = []
        cycles: list[int] = []
        for t, cyc in enumerate(stimulus):
            if cyc is None:
                continue
            if len(cyc.terms) != self.lanes or len(cyc.acts) != self.lanes:
                raise ValueError(f"term-cycle has {len(cyc.terms)} lanes, model has {self.lanes}")
            if any(not lo <= a <= hi for a in cyc.acts):
                raise ValueError(f"activation outside {self.act_width}-bit signed range")
            total = sum(self.lane_value(i, term, a) for i, (term, a) in enumerate(zip(cyc.terms, cyc.acts)))
            acc = ((0 if cyc.clear else acc) + total) & mask
            if cyc.last:
                outputs.append((acc,))
                cycles.append(t + self.latency_cycles)
        return outputs, cycles
