"""Online-softmax statistics unit: running max m and rescaled running sum l of one score row.

Consumes one fixed-point score per cycle (`score`, signed `width` bits with `frac_bits`
fractional bits; `first`/`last` delimit a query row) and produces, at the end of the row, the
row maximum `max` and l = sum_i exp(s_i - max) (`ell`, unsigned, 16 fractional bits). This is
the statistics half of the one-pass attention cascade of FlashAttention / FuseMax; the
recurrence, number formats and the base-2 piecewise-linear exponent are specified in
`sim.units.online_softmax`, which this RTL reproduces bit for bit.

Pipeline (three register stages, one score per cycle, rows back to back):

* A (sampling edge t): compare the score with the running max, update the max, register
  d = |s - m| (0 for a row's first score) and whether the max moved;
* B (edge t+1): e = exp(-d): multiply by log2(e) (17-bit constant), split integer/fraction,
  look up chord end point and slope (17-entry ROM), interpolate, shift right by the integer part;
* C (edge t+2): l = e on a row's first score, l = (l*e >> 16) + 1.0 when the max moved, else
  l = l + e; saturating. With `last`, `done` is high after this edge and `ell`/`max` hold the
  row's results: `latency_cycles = 2`.
"""
from __future__ import annotations

import random
from typing import Mapping

from amaranth.hdl import Array, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.units.base import ParamSpec, UnitDef
from sim.units.online_softmax import (EXP_FRAC_BITS, INTERP_BITS, LOG2E_FRAC_BITS, LOG2E_Q,
                                      SEG_BITS, OnlineSoftmaxModel, Score, exp2_table)


class OnlineSoftmax(wiring.Component):
    """Running (max, sum of exp) over a stream of fixed-point scores, one score per cycle."""

    def __init__(self, width: int = 16, frac_bits: int = 8, max_row_log2: int = 16):
        self.width = width
        self.frac_bits = frac_bits
        self.max_row_log2 = max_row_log2
        self.ell_bits = EXP_FRAC_BITS + max_row_log2 + 1
        super().__init__({
            "score": In(width),
            "valid": In(1),
            "first": In(1),
            "last": In(1),
            "ell": Out(self.ell_bits),
            "max": Out(width),
            "done": Out(1),
        })

    @property
    def latency_cycles(self) -> int:
        return 2

    def elaborate(self, platform):
        m = Module()
        w = self.width
        one = 1 << EXP_FRAC_BITS

        # Stage A: running max and |s - m|.
        s = self.score.as_signed()
        run_max = Signal(signed(w))
        greater = s > run_max
        d_a = Signal(w)
        moved_a = Signal()
        m_a = Signal(signed(w))
        valid_a, first_a, last_a = Signal(), Signal(), Signal()
        m.d.sync += [valid_a.eq(self.valid), first_a.eq(self.valid & self.first),
                     last_a.eq(self.valid & self.last)]
        with m.If(self.valid):
            with m.If(self.first):
                m.d.sync += [run_max.eq(s), d_a.eq(0), moved_a.eq(1), m_a.eq(s)]
            with m.Elif(greater):
                m.d.sync += [run_max.eq(s), d_a.eq((s - run_max)[:w]), moved_a.eq(1), m_a.eq(s)]
            with m.Else():
                m.d.sync += [d_a.eq((run_max - s)[:w]), moved_a.eq(0), m_a.eq(run_max)]

        # Stage B: e = 2**(-d * log2(e)) with a chord-interpolated 2**(-f).
        low = self.frac_bits + LOG2E_FRAC_BITS
        y = Signal(w + LOG2E_Q.bit_length(), name="y")
        m.d.comb += y.eq(d_a * LOG2E_Q)
        whole = y[low:]
        seg = y[low - SEG_BITS:low]
        r = y[low - SEG_BITS - INTERP_BITS:low - SEG_BITS]
        table = exp2_table()
        t_rom = Array(Const(v, EXP_FRAC_BITS + 1) for v in table[:-1])
        slope_rom = Array(Const(table[k] - table[k + 1], EXP_FRAC_BITS) for k in range(len(table) - 1))
        g = Signal(EXP_FRAC_BITS + 1, name="g")
        m.d.comb += g.eq(t_rom[seg] - ((slope_rom[seg] * r) >> INTERP_BITS))
        e_b = Signal(EXP_FRAC_BITS + 1)
        valid_b, first_b, last_b, moved_b = Signal(), Signal(), Signal(), Signal()
        m_b = Signal(signed(w))
        m.d.sync += [
            e_b.eq(Mux(whole > EXP_FRAC_BITS, 0, g >> whole[:5])),
            valid_b.eq(valid_a), first_b.eq(first_a), last_b.eq(last_a), moved_b.eq(moved_a),
            m_b.eq(m_a),
        ]

        # Stage C: rescale-and-add into l, saturating.
        ell = Signal(self.ell_bits)
        ell_max = (1 << self.ell_bits) - 1
        rescaled = Signal(self.ell_bits + 1, name="rescaled")
        m.d.comb += rescaled.eq(((ell * e_b) >> EXP_FRAC_BITS) + one)
        added = Signal(self.ell_bits + 1, name="added")
        m.d.comb += added.eq(ell + e_b)
        nxt = Mux(first_b, e_b, Mux(moved_b, rescaled, added))
        with m.If(valid_b):
            m.d.sync += ell.eq(Mux(nxt > ell_max, ell_max, nxt))
        with m.If(last_b):
            m.d.sync += self.max.eq(m_b)
        m.d.sync += self.done.eq(last_b)
        m.d.comb += self.ell.eq(ell)
        return m


# --- streaming test interface -------------------------------------------------------------

def _row(params: Mapping[str, int], rng: random.Random, length: int) -> list[int]:
    w, f = params["width"], params["frac_bits"]
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    kind = rng.random()
    if kind < 0.45:
        centre = rng.uniform(lo, hi) * 0.5
        spread = rng.choice([0.5, 2.0, 6.0]) * (1 << f)
        vals = [round(rng.gauss(centre, spread)) for _ in range(length)]
    elif kind < 0.75:
        vals = [rng.randint(lo, hi) for _ in range(length)]
    elif kind < 0.85:
        start = rng.randint(lo, hi)
        step = rng.randint(0, max(1, (hi - lo) // (4 * length)))
        vals = [start + i * step for i in range(length)]
    elif kind < 0.95:
        start = rng.randint(lo, hi)
        step = rng.randint(0, max(1, (hi - lo) // (4 * length)))
        vals = [start - i * step for i in range(length)]
    else:
        vals = [rng.randint(lo, hi)] * length
    return [min(hi, max(lo, v)) for v in vals]


def _as_row(values: list[int], width: int) -> list[Score]:
    mask = (1 << width) - 1
    return [Score(v & mask, i == 0, i == len(values) - 1) for i, v in enumerate(values)]


def stimulus(params: Mapping[str, int], n: int, rng: random.Random) -> list[Score | None]:
    """n scores in rows of 1..64 (Gaussian, uniform, rising, falling, constant), 10 % bubbles,
    then edge cases: extremes, single-score rows, a long row and a saturating row."""
    w, f = params["width"], params["frac_bits"]
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    out: list[Score | None] = []
    made = 0
    while made < n:
        length = min(rng.randint(1, 64), n - made)
        for score in _as_row(_row(params, rng, length), w):
            if rng.random() < 0.1:
                out.append(None)
            out.append(score)
        made += length
    edge_rows = [
        [0], [lo], [hi], [lo, hi], [hi, lo], [lo, hi, lo, hi], [0, 0, 0, 0],
        [hi] * 9, [lo] * 9, list(range(lo, lo + 40)), [0, 1, 2, 3, 2, 1, 0],
        [hi - k for k in range(0, 64, 3)], [lo + (k << f) for k in range(12)],
        [round(k * (1 << f) / 8) for k in range(-40, 40, 3)],
        [rng.randint(lo, hi) for _ in range(1500)],
        [0] * min(3000, (1 << params["max_row_log2"]) + 20),
    ]
    for row in edge_rows:
        out += _as_row([min(hi, max(lo, v)) for v in row], w)
    return out


def encode(params: Mapping[str, int], score: Score | None) -> tuple[int, ...]:
    if score is None:
        return (0, 0, 0, 0)
    return (score.value, 1, int(score.first), int(score.last))


def _check(p: Mapping[str, int]) -> str | None:
    if p["frac_bits"] >= p["width"]:
        return f"frac_bits={p['frac_bits']} must be smaller than width={p['width']}"
    return None


UNIT = UnitDef(
    name="online_softmax",
    summary="online-softmax statistics: running max and rescaled sum of exp, fixed point",
    params=(
        ParamSpec("width", 16, 4, 32, "score width in bits (signed fixed point)"),
        ParamSpec("frac_bits", 8, 0, 31, "fractional bits of a score"),
        ParamSpec("max_row_log2", 16, 1, 24, "log2 of the longest row before l saturates"),
    ),
    build=lambda p: OnlineSoftmax(p["width"], p["frac_bits"], p["max_row_log2"]),
    model=lambda p: OnlineSoftmaxModel(p["width"], p["frac_bits"], p["max_row_log2"]),
    inputs=("score", "valid", "first", "last"),
    outputs=("ell", "max"),
    out_valid="done",
    encode=encode,
    stimulus=stimulus,
    width_param="width",
    sweep=({"width": 8, "frac_bits": 4}, {"width": 12, "frac_bits": 6}, {"width": 16, "frac_bits": 8}),
    check=_check,
)
